#include "core/base/thread_name.hpp"

#include <pthread.h>

namespace iotxmpp {

void name_this_thread(const std::string& name) {
  // The kernel's limit is 16 bytes including the terminator; a longer name
  // makes the call fail rather than cut it.
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace iotxmpp
