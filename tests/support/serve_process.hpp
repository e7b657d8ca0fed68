#pragma once
// `iotxmpp serve` as a process of its own (child_process), on a fixed
// loopback port, for tests that signal, stop or kill it.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace iotxmpp::test {

// The arguments of `serve` on `db` listening on 127.0.0.1:port, without the
// per-session rate limits (tests send faster than a device), plus `extra`.
std::vector<std::string> serve_args(const std::string& db, unsigned short port,
                                    const std::vector<std::string>& extra = {});

// True once something accepts connections on 127.0.0.1:port (polled until
// `limit`).
bool listening(unsigned short port, std::chrono::milliseconds limit = std::chrono::seconds(20));

// For each established TCP connection whose local end is 127.0.0.1:port
// (the server's side), the bytes received and not yet read by the server
// (/proc/net/tcp's rx_queue). Shows what a stopped server holds unread.
std::vector<std::size_t> unread_by_server(unsigned short port);

// How many threads of process `pid` have a name starting with `prefix`
// (/proc/PID/task/*/comm), e.g. serve's network threads "iotxmpp-net".
std::size_t threads_named(int pid, const std::string& prefix);

}  // namespace iotxmpp::test
