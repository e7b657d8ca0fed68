#pragma once

#include <string_view>

namespace iotxmpp {

// The release version of iotxmpp, as `MAJOR.MINOR.PATCH`.
std::string_view version();

}  // namespace iotxmpp
