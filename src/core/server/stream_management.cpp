#include "core/server/stream_management.hpp"

#include <charconv>
#include <cstring>

#include "core/xmpp/namespaces.hpp"

namespace iotxmpp {
namespace {

std::string sm_element(std::string_view name, std::string_view attributes = {},
                       std::string_view child = {}) {
  std::string out = "<" + std::string(name) + " xmlns='" + std::string(ns::sm) + "'";
  if (!attributes.empty()) out += " " + std::string(attributes);
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

bool stream_management::sent(std::uint32_t n) {
  if (!enabled_) return false;
  out_ += n;
  if (asked_ || static_cast<std::uint32_t>(out_ - acked_) < ask_every) return false;
  asked_ = true;
  return true;
}

stream_management::answer stream_management::on_element(pugi::xml_node element) {
  answer a;
  std::string_view name = element.name();
  if (auto colon = name.find(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
  if (name == "enable") {
    if (enabled_) {
      a.send = failed("unexpected-request");
      return a;
    }
    // No resumption yet: <enabled/> without id or resume (XEP-0198 §3), so
    // a client that asked for resume='true' knows not to try.
    enabled_ = true;
    a.send = sm_element("enabled");
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
    return a;
  }
  a.send = failed("unexpected-request");
  return a;
}

}  // namespace iotxmpp
