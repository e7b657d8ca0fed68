#include "core/base/version.hpp"

namespace iotxmpp {

std::string_view version() { return IOTXMPP_VERSION; }

}  // namespace iotxmpp
