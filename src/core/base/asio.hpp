#pragma once
// The one way to include Boost.Asio in iotxmpp. Boost 1.74's
// asio/awaitable.hpp uses std::exchange without including <utility>, so it
// must come first. Include this only in session, server and client files:
// it costs seconds of compile time per translation unit.

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace iotxmpp {
namespace asio = boost::asio;
}
