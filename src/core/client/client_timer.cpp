// client::impl: the timer (connect, close, reconnect, IQ and ack
// deadlines), IQ tracking and keep_connected's reconnecting (see
// client_impl.hpp for how the client's files divide the work).
#include <algorithm>
#include <vector>

#include "core/client/client_impl.hpp"

namespace iotxmpp {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

// Schedules the next attempt when keep_connected is on.
void client::impl::after_loss(const error& e) {
  if (!keep_ || state_ != state::idle) return;
  if (on_down_) on_down_(e);
  if (!keep_ || state_ != state::idle) return;  // on_down may have closed or connected
  state_ = state::waiting;
  reconnect_at_ = steady::now() + backoff_->next();
  rearm();
}

// Fails every IQ and ack that waits.
void client::impl::fail_pending(const error& e) {
  auto pending = std::move(pending_);
  pending_.clear();
  std::vector<ack_waiter> waiting;
  if (sm_) waiting = std::exchange(sm_->waiting, {});
  for (auto& p : pending) p.done(std::unexpected(e));
  for (auto& w : waiting) w.done(std::unexpected(e));
}

// --- the timer: connect, close, reconnect and IQ deadlines ----------------

auto client::impl::earliest() const -> steady::time_point {
  steady::time_point t = never;
  if (state_ == state::connecting || state_ == state::negotiating)
    t = std::min(t, connect_deadline_);
  if (state_ == state::closing) t = std::min(t, close_deadline_);
  if (state_ == state::waiting) t = std::min(t, reconnect_at_);
  for (const auto& p : pending_) t = std::min(t, p.deadline);
  if (sm_)
    for (const auto& w : sm_->waiting) t = std::min(t, w.deadline);
  return t;
}

void client::impl::rearm() {
  auto t = earliest();
  // Re-arm only when something is due sooner: moving a timer cancels its
  // wait, which costs a completion, and most IQs finish long before.
  if (t == never || t >= armed_at_) return;
  armed_at_ = t;
  timer_.expires_at(t);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    self->armed_at_ = never;
    self->on_timer();
  });
}

void client::impl::on_timer() {
  auto now = steady::now();
  if ((state_ == state::connecting || state_ == state::negotiating) && now >= connect_deadline_) {
    connect_failed(error{error_kind::timeout,
                         "no connection to " + options_.server.to_string() + " within " +
                             seconds_text(options_.connect_timeout),
                         {}});
  } else if (state_ == state::closing && now >= close_deadline_) {
    ended(std::nullopt);
  } else if (state_ == state::waiting && now >= reconnect_at_) {
    connect(nullptr);
  }
  for (std::size_t i = 0; i < pending_.size();) {
    if (pending_[i].deadline > now) {
      ++i;
      continue;
    }
    pending_iq expired = std::move(pending_[i]);
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    expired.done(
        fail(error_kind::timeout, "no reply to IQ '" + expired.id + "' within the timeout"));
    i = 0;  // the handler may have changed the list
  }
  for (std::size_t i = 0; sm_ && i < sm_->waiting.size();) {
    if (sm_->waiting[i].deadline > now) {
      ++i;
      continue;
    }
    ack_waiter expired = std::move(sm_->waiting[i]);
    sm_->waiting.erase(sm_->waiting.begin() + static_cast<std::ptrdiff_t>(i));
    expired.done(
        fail(error_kind::timeout, "no acknowledgement from the server within the timeout"));
    i = 0;  // the handler may have changed the list
  }
  rearm();
}

// --- the public API -------------------------------------------------------

std::string client::next_id() { return "c" + std::to_string(++impl_->next_id_); }

void client::send_iq(xml_element request, std::chrono::milliseconds timeout, iq_handler done) {
  auto& i = *impl_;
  if (request.get("id").empty()) request.set("id", next_id());
  std::string id(request.get("id"));
  auto sent = send(request.str());
  if (!sent) {
    asio::post(i.io_, [done = std::move(done), e = sent.error()] { done(std::unexpected(e)); });
    return;
  }
  i.pending_.push_back({std::move(id), impl::steady::now() + timeout, std::move(done)});
  i.rearm();
}

void client::keep_connected(backoff_policy policy, std::function<void()> on_up,
                            std::function<void(const error&)> on_down) {
  auto& i = *impl_;
  i.keep_ = true;
  i.backoff_.emplace(policy);
  i.on_up_ = std::move(on_up);
  i.on_down_ = std::move(on_down);
  if (i.state_ == impl::state::bound && i.on_up_)
    i.on_up_();
  else if (i.state_ == impl::state::idle)
    i.connect(nullptr);
}

}  // namespace iotxmpp
