// client::impl: stream management (XEP-0198) and resumption, and the
// public calls about them (see client_impl.hpp for how the client's files
// divide the work).
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "core/client/client_impl.hpp"
#include "core/xmpp/namespaces.hpp"

namespace iotxmpp {
namespace {

// Whether the start tag `tag` ("<name attr='v' ...>") declares
// xmlns='urn:xmpp:sm:3'.
bool in_sm_namespace(std::string_view tag) {
  for (std::string_view quote : {"'", "\""}) {
    std::string needle = "xmlns=" + std::string(quote) + std::string(ns::sm) + std::string(quote);
    auto at = tag.find(needle);
    if (at != std::string_view::npos && at > 0 &&
        (tag[at - 1] == ' ' || tag[at - 1] == '\t' || tag[at - 1] == '\n' || tag[at - 1] == '\r'))
      return true;
  }
  return false;
}

}  // namespace

// The stanzas in `xml`, serialized top-level elements as send() gets them:
// elements at depth 0, not counting urn:xmpp:sm:3 ones (nonzas). Skips
// comments, CDATA and processing instructions; attribute values may hold
// '>' and '/' inside their quotes. Well-formedness is the caller's.
std::uint32_t client::impl::count_stanzas(std::string_view xml) {
  std::uint32_t n = 0;
  int depth = 0;
  std::size_t i = 0;
  auto skip_past = [&](std::string_view end) {
    auto at = xml.find(end, i);
    i = at == std::string_view::npos ? xml.size() : at + end.size();
  };
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    std::string_view rest = xml.substr(i);
    if (rest.starts_with("<!--")) {
      skip_past("-->");
    } else if (rest.starts_with("<![CDATA[")) {
      skip_past("]]>");
    } else if (rest.starts_with("<?") || rest.starts_with("<!")) {
      skip_past(">");
    } else if (rest.starts_with("</")) {
      skip_past(">");
      --depth;
    } else {
      // A start tag: find its end outside quoted attribute values.
      std::size_t j = i + 1;
      char quote = 0;
      for (; j < xml.size(); ++j) {
        char c = xml[j];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      std::string_view tag = xml.substr(i, j - i + 1);
      bool empty = j > i + 1 && j < xml.size() && xml[j - 1] == '/';
      if (depth == 0 && !in_sm_namespace(tag)) ++n;
      if (!empty) ++depth;
      i = j + 1;
    }
  }
  return n;
}

void client::impl::on_bound() {
  sm_.reset();
  resumed_.reset();
  if (const auto& h = negotiation_->resumed(); h && resumable_) {
    // The old stream goes on: its JID and counts. The server handled our
    // stanzas up to h; those after it are the caller's to send again, and
    // count from h.
    resumed_ = client::resumption{*h, resumable_->sent - *h};
    address_ = resumable_->address;
    sm_ = std::make_unique<sm_state>();
    sm_->enabled = resumable_->enabled;
    sm_->handled = resumable_->handled;
    sm_->sent = sm_->acked = sm_->requested = *h;
  } else {
    address_ = negotiation_->bound_jid();
    if (const auto& sm = negotiation_->stream_management()) {
      sm_ = std::make_unique<sm_state>();
      sm_->enabled = *sm;
    }
  }
  resumable_.reset();
  negotiation_.reset();
  state_ = state::bound;
  connect_deadline_ = never;
  if (backoff_) backoff_->reset();
  if (auto done = std::exchange(connect_done_, nullptr)) done({});
  if (keep_ && state_ == state::bound && on_up_) on_up_();
}

// --- stream management (XEP-0198) -----------------------------------------

void client::impl::on_sm(pugi::xml_node element) {
  if (!sm_) return;  // not enabled: nothing of ours to answer or count
  std::string_view name = local_name(element);
  if (name == "r") {
    write("<a xmlns='" + std::string(ns::sm) + "' h='" + std::to_string(sm_->handled) + "'/>");
    return;
  }
  if (name != "a") return;  // <enabled/> again, <failed/>: nothing to do
  const char* text = element.attribute("h").value();
  char* end = nullptr;
  unsigned long long h = std::strtoull(text, &end, 10);
  if (!*text || *end || h > 0xffffffffULL) {
    end_stream(stream_condition::bad_format, "<a/> without a valid h", nullptr,
               error{error_kind::protocol, "the server sent <a/> without a valid h", {}});
    return;
  }
  auto acked = static_cast<std::uint32_t>(h);
  // Both counts wrap: compare the distances from the last ack.
  if (static_cast<std::uint32_t>(acked - sm_->acked) >
      static_cast<std::uint32_t>(sm_->sent - sm_->acked)) {
    xml_element app("handled-count-too-high");
    app.set("xmlns", ns::sm);
    app.set("h", std::to_string(acked));
    app.set("send-count", std::to_string(sm_->sent));
    end_stream(stream_condition::undefined_condition, {}, &app,
               error{error_kind::protocol,
                     "the server acknowledged " + std::to_string(acked) + " stanzas of " +
                         std::to_string(sm_->sent) + " sent",
                     "handled-count-too-high"});
    return;
  }
  sm_->acked = acked;
  // Take the covered waiters out first: a handler may send, wait again or
  // close, which changes the list.
  std::vector<ack_waiter> covered;
  auto& waiting = sm_->waiting;
  auto is_covered = [&](const ack_waiter& w) {
    return static_cast<std::uint32_t>(sm_->sent - w.upto) >=
           static_cast<std::uint32_t>(sm_->sent - acked);
  };
  for (auto it = waiting.begin(); it != waiting.end();) {
    if (is_covered(*it)) {
      covered.push_back(std::move(*it));
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& w : covered) w.done({});
}

void client::impl::when_acked(std::chrono::milliseconds timeout, ack_handler done) {
  auto later = [&](result<void> r) {
    asio::post(io_, [done = std::move(done), r = std::move(r)] { done(r); });
  };
  if (state_ != state::bound) return later(fail(error_kind::connect, "not connected"));
  if (!sm_)
    return later(fail(error_kind::usage, "stream management is not enabled on this connection"));
  if (sm_->acked == sm_->sent) return later({});
  sm_->waiting.push_back({sm_->sent, steady::now() + timeout, std::move(done)});
  if (sm_->requested != sm_->sent) {
    // An <r/> already out covers only what was sent before it.
    sm_->requested = sm_->sent;
    write("<r xmlns='" + std::string(ns::sm) + "'/>");
  }
  rearm();
}

// Ends the stream ourselves: sends the stream error, fails what waits,
// and reports `why` once the server closed too (or the close wait passed).
void client::impl::end_stream(stream_condition condition, std::string_view text,
                              const xml_element* app, error why) {
  state_ = state::closing;
  sm_->ending = why;
  write(stream_error(condition, text, app));
  close_deadline_ = steady::now() + std::min<std::chrono::milliseconds>(options_.connect_timeout,
                                                                        longest_close_wait);
  fail_pending(why);
  rearm();
}

// --- the public API -------------------------------------------------------

bool client::stream_management() const { return impl_->state_ == impl::state::bound && impl_->sm_; }

const std::optional<client::resumption>& client::resumed() const { return impl_->resumed_; }

std::optional<client::sm_counts> client::stream_counts() const {
  const auto& sm = impl_->sm_;
  if (!sm || impl_->state_ != impl::state::bound) return std::nullopt;
  return sm_counts{sm->sent, sm->acked, sm->handled};
}

void client::when_acked(std::chrono::milliseconds timeout, ack_handler done) {
  impl_->when_acked(timeout, std::move(done));
}

}  // namespace iotxmpp
