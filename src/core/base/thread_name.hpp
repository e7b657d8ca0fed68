#pragma once
// Names the calling thread (shown by top -H, ps -L, gdb, perf), so an
// operator can tell the network threads from the store writer. Linux keeps at
// most 15 characters; longer names are cut.

#include <string>

namespace iotxmpp {

void name_this_thread(const std::string& name);

}  // namespace iotxmpp
