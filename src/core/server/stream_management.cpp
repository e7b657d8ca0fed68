#include "core/server/stream_management.hpp"

#include <charconv>
#include <cstring>

#include "core/xmpp/namespaces.hpp"

namespace iotxmpp {
namespace {

std::string sm_element(std::string_view name, std::string_view attributes = {},
                       std::string_view child = {}) {
  // Appends rather than `"<" + std::string(name)`: GCC 12 warns (-Wrestrict,
  // a false positive) at -O2 on operator+(const char*, std::string&&).
  std::string out = std::string("<").append(name) + " xmlns='" + std::string(ns::sm) + "'";
  if (!attributes.empty()) out.append(" ").append(attributes);
  if (child.empty()) return out + "/>";
  return out + ">" + std::string(child) + "</" + std::string(name) + ">";
}

std::string failed(std::string_view condition) {
  return sm_element("failed", {},
                    "<" + std::string(condition) + " xmlns='" + std::string(ns::stanzas) + "'/>");
}

// An h attribute: a decimal 32-bit count.
std::optional<std::uint32_t> parse_h(pugi::xml_node element) {
  const char* text = element.attribute("h").value();
  const char* end = text + std::strlen(text);
  std::uint32_t h = 0;
  auto [p, ec] = std::from_chars(text, end, h);
  if (ec != std::errc() || p != end || p == text) return std::nullopt;
  return h;
}

}  // namespace

std::string stream_management::request() { return sm_element("r"); }

std::string stream_management::too_high_text(std::uint32_t h) const {
  return "you acknowledged " + std::to_string(h) + " stanzas but " + std::to_string(out_) +
         " were sent";
}

void stream_management::drop_acknowledged() {
  if (!queue_) return;
  auto& q = *queue_;
  while (!q.empty() && static_cast<std::uint32_t>(acked_ - queue_base_) >= q.front().second) {
    queue_base_ += q.front().second;
    queued_bytes_ -= q.front().first.size();
    q.pop_front();
  }
  if (q.empty()) queue_.reset();
}

std::optional<std::string> stream_management::resume_from(std::uint32_t h) {
  if (static_cast<std::uint32_t>(h - acked_) > static_cast<std::uint32_t>(out_ - acked_))
    return std::nullopt;
  acked_ = h;
  drop_acknowledged();
  std::string again;
  std::uint32_t count = 0;
  if (queue_) {
    for (const auto& [bytes, n] : *queue_) {
      again += bytes;
      count += n;
    }
    // The client counts what it gets from h on: the first queued chunk may
    // hold stanzas it had (a feed batch acknowledged in part); they come
    // again. With nothing queued, everything sent was acknowledged: out_ is h.
    out_ = queue_base_ + count;
    acked_ = queue_base_;
  }
  asked_ = false;
  return again;
}

bool stream_management::sent(std::string_view bytes, std::uint32_t n) {
  if (!enabled_) return false;
  if (resumable() && n > 0) {
    if (!queue_) {
      queue_ = std::make_unique<std::deque<std::pair<std::string, std::uint32_t>>>();
      queue_base_ = out_;
    }
    queue_->emplace_back(std::string(bytes), n);
    queued_bytes_ += bytes.size();
  }
  out_ += n;
  if (asked_ || static_cast<std::uint32_t>(out_ - acked_) < ask_every) return false;
  asked_ = true;
  return true;
}

stream_management::answer stream_management::on_element(pugi::xml_node element,
                                                        std::string_view resume_id,
                                                        std::uint32_t max_seconds) {
  answer a;
  std::string_view name = element.name();
  if (auto colon = name.find(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
  if (name == "enable") {
    if (enabled_) {
      a.send = failed("unexpected-request");
      return a;
    }
    enabled_ = true;
    const std::string_view want = element.attribute("resume").value();
    if ((want == "true" || want == "1") && !resume_id.empty()) {
      id_ = std::string(resume_id);
      a.send = sm_element(
          "enabled", "id='" + id_ + "' resume='true' max='" + std::to_string(max_seconds) + "'");
    } else {
      // Without resumption: no id, no resume (XEP-0198 §3).
      a.send = sm_element("enabled");
    }
    return a;
  }
  if (name == "resume") {
    // Bound already: resume takes bind's place, not a second one.
    a.send = failed("unexpected-request");
    return a;
  }
  if (!enabled_) {
    a.send = failed("unexpected-request");
    return a;
  }
  if (name == "r") {
    a.after_commit = sm_element("a", "h='" + std::to_string(in_) + "'");
    return a;
  }
  if (name == "a") {
    auto h = parse_h(element);
    if (!h) {
      a.fatal = stream_condition::undefined_condition;
      a.fatal_text = "<a/> needs h, a 32-bit count";
      return a;
    }
    // Counts wrap: compare the distances from the last acknowledgement.
    if (static_cast<std::uint32_t>(*h - acked_) > static_cast<std::uint32_t>(out_ - acked_)) {
      a.fatal = stream_condition::undefined_condition;
      a.fatal_text = too_high_text(*h);
      a.too_high_h = *h;
      return a;
    }
    acked_ = *h;
    asked_ = false;
    drop_acknowledged();
    return a;
  }
  a.send = failed("unexpected-request");
  return a;
}

}  // namespace iotxmpp
