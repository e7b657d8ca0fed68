// The JSON form of recommendation rules: loading with precise errors, and
// writing back. Part of the rules concept (rules.hpp), split out for size.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/iot/rules.hpp"
#include "core/iot/sensordata.hpp"
#include "core/model/limits.hpp"

namespace iotxmpp {
namespace {

// Keeps file order for targets, which is the order they are answered in.
using json = nlohmann::ordered_json;

// Finds the first key repeated within one object, which nlohmann would
// otherwise resolve silently (the last one wins), and records its key path.
class duplicate_key_finder {
 public:
  bool operator()(int, json::parse_event_t event, json& parsed) {
    using ev = json::parse_event_t;
    switch (event) {
      case ev::object_start:
        enter(false);
        break;
      case ev::array_start:
        enter(true);
        break;
      case ev::object_end:
      case ev::array_end:
        stack_.pop_back();
        break;
      case ev::key: {
        auto& top = stack_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second && first_.empty()) first_ = path();
        break;
      }
      case ev::value:
        count_element();
        break;
    }
    return true;
  }
  // Path of the first repeated key, empty when none.
  const std::string& first() const { return first_; }

 private:
  struct frame {
    bool is_array = false;
    std::size_t elements = 0;
    std::string key;
    std::set<std::string> keys;
  };
  void count_element() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().elements;
  }
  void enter(bool is_array) {
    count_element();
    stack_.push_back({is_array, 0, {}, {}});
  }
  std::string path() const {
    std::string p;
    for (const auto& f : stack_) {
      if (f.is_array) {
        p += '[' + std::to_string(f.elements - 1) + ']';
      } else {
        if (!p.empty()) p += '.';
        p += f.key;
      }
    }
    return p;
  }
  std::vector<frame> stack_;
  std::string first_;
};

// Validates a parsed rules document, producing errors that name the source
// and the key path.
class loader {
 public:
  explicit loader(std::string_view source) : source_(source) {}

  result<std::vector<period_rule>> periods(const json& root) const {
    if (!root.is_object()) return expected("", "an object with \"periods\"", root);
    if (auto e = only_keys(root, "", {"periods"})) return *e;
    if (!root.contains("periods")) return bad("", "missing key \"periods\" (a list of periods)");
    const json& list = root["periods"];
    if (!list.is_array()) return expected("periods", "an array of periods", list);
    if (list.empty()) return expected("periods", "at least one period", list);
    std::vector<period_rule> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string path = "periods[" + std::to_string(i) + "]";
      auto p = period(list[i], path);
      if (!p) return std::unexpected(p.error());
      for (std::size_t j = 0; j < out.size(); ++j) {
        std::string other = "periods[" + std::to_string(j) + "]";
        if (out[j].name == p->name)
          return bad(path + ".name",
                     "duplicate period name " + json(p->name).dump() + " (also " + other + ")");
        if (out[j].start_minute == p->start_minute)
          return bad(path + ".start", list[i]["start"].dump() + " is already the start of " +
                                          other + " (" + json(out[j].name).dump() + ")");
      }
      out.push_back(std::move(*p));
    }
    return out;
  }

 private:
  std::unexpected<error> bad(const std::string& path, const std::string& what) const {
    return fail(error_kind::usage, source_ + ": " + (path.empty() ? "" : path + ": ") + what);
  }
  std::unexpected<error> expected(const std::string& path, std::string_view what,
                                  const json& got) const {
    std::string shown = got.dump(-1, ' ', false, json::error_handler_t::replace);
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    return bad(path, "expected " + std::string(what) + ", got " + shown);
  }
  // An error for the first key of `object` not in `allowed`.
  std::optional<std::unexpected<error>> only_keys(
      const json& object, const std::string& path,
      std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) (list += list.empty() ? "" : ", ") += a;
      return bad(path.empty() ? key : path + "." + key, "unknown key (expected " + list + ")");
    }
    return std::nullopt;
  }

  result<period_rule> period(const json& p, const std::string& path) const {
    if (!p.is_object()) return expected(path, "an object with name, start and targets", p);
    if (auto e = only_keys(p, path, {"name", "start", "targets"})) return *e;
    for (auto key : {"name", "start", "targets"})
      if (!p.contains(key)) return bad(path, std::string("missing key \"") + key + "\"");
    period_rule out;
    const json& name = p["name"];
    if (!name.is_string() || name.get_ref<const std::string&>().empty())
      return expected(path + ".name", "a non-empty string", name);
    out.name = name.get<std::string>();
    // Stored with every recommendation given in the period.
    if (auto why = over_limit("a period name", out.name, limits::period))
      return bad(path + ".name", *why);
    const json& start = p["start"];
    auto minute = start.is_string() ? parse_hh_mm(start.get_ref<const std::string&>()) : -1;
    if (minute < 0) return expected(path + ".start", "\"HH:MM\" from 00:00 to 23:59", start);
    out.start_minute = minute;
    const json& targets = p["targets"];
    if (!targets.is_object())
      return expected(path + ".targets", "an object of quantity targets", targets);
    for (const auto& [quantity, target] : targets.items()) {
      if (quantity.empty()) return bad(path + ".targets", "empty quantity name");
      auto q = quantity_target(quantity, target, path + ".targets." + quantity);
      if (!q) return std::unexpected(q.error());
      out.quantities.push_back(std::move(*q));
    }
    return out;
  }

  result<quantity_rule> quantity_target(const std::string& quantity, const json& t,
                                        const std::string& path) const {
    if (!t.is_object()) return expected(path, "an object with value and tolerance", t);
    if (auto e = only_keys(t, path, {"value", "tolerance", "unit"})) return *e;
    for (auto key : {"value", "tolerance"})
      if (!t.contains(key)) return bad(path, std::string("missing key \"") + key + "\"");
    quantity_rule out{quantity, 0, 0, std::string(default_unit(quantity))};
    const json& value = t["value"];
    if (!value.is_number()) return expected(path + ".value", "a number", value);
    out.target = value.get<double>();
    const json& tolerance = t["tolerance"];
    if (!tolerance.is_number() || tolerance.get<double>() < 0)
      return expected(path + ".tolerance", "a non-negative number", tolerance);
    out.tolerance = tolerance.get<double>();
    if (t.contains("unit")) {
      const json& unit = t["unit"];
      if (!unit.is_string()) return expected(path + ".unit", "a string", unit);
      out.unit = unit.get<std::string>();
    }
    return out;
  }

  // Minutes since midnight of a strict "HH:MM", or -1.
  static int parse_hh_mm(const std::string& s) {
    auto digit = [&](int i) { return s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -100; };
    if (s.size() != 5 || s[2] != ':') return -1;
    int hour = digit(0) * 10 + digit(1), minute = digit(3) * 10 + digit(4);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return -1;
    return hour * 60 + minute;
  }

  std::string source_;
};

// "SOURCE:LINE:COLUMN: invalid JSON: REASON" for a parse error at 1-based
// byte `byte` (nlohmann's own line/column are off at line starts).
error parse_failure(std::string_view text, std::string_view source, std::size_t byte,
                    std::string_view what) {
  std::size_t index = std::min(byte > 0 ? byte - 1 : 0, text.size());
  std::size_t line = 1 + std::count(text.begin(), text.begin() + index, '\n');
  std::size_t line_start = text.rfind('\n', index == 0 ? 0 : index - 1);
  line_start = (line_start == std::string_view::npos || index == 0) ? 0 : line_start + 1;
  std::size_t column = index - line_start + 1;
  // what() reads "[json.exception.parse_error.101] parse error at line L, column C: REASON".
  if (auto colon = what.find(": ", what.find("column")); colon != std::string_view::npos)
    what.remove_prefix(colon + 2);
  return error{error_kind::usage, std::string(source) + ":" + std::to_string(line) + ":" +
                                      std::to_string(column) +
                                      ": invalid JSON: " + std::string(what)};
}

std::string hh_mm(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

// Integral values as JSON integers, so the file reads 18 rather than 18.0.
json number(double v) {
  if (std::trunc(v) == v && std::abs(v) < 9007199254740992.0) return static_cast<std::int64_t>(v);
  return v;
}

}  // namespace

result<rules> rules::from_json_text(std::string_view text, std::string_view source_name) {
  duplicate_key_finder duplicates;
  json root;
  try {
    root = json::parse(text.begin(), text.end(), std::ref(duplicates),
                       /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    return std::unexpected(parse_failure(text, source_name, e.byte, e.what()));
  } catch (const json::exception& e) {
    return fail(error_kind::usage, std::string(source_name) + ": invalid JSON: " + e.what());
  }
  if (!duplicates.first().empty())
    return fail(error_kind::usage,
                std::string(source_name) + ": " + duplicates.first() + ": duplicate key");
  auto periods = loader(source_name).periods(root);
  if (!periods) return std::unexpected(periods.error());
  return rules(std::move(*periods));
}

result<rules> rules::from_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(error_kind::usage, "cannot read " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n > 0)
      text.append(buf, static_cast<std::size_t>(n));
    else if (errno != EINTR)
      break;
  }
  int read_errno = errno;
  ::close(fd);
  if (n < 0)
    return fail(error_kind::usage, "cannot read " + path + ": " + std::strerror(read_errno));
  return from_json_text(text, path);
}

std::string rules::to_json() const {
  json list = json::array();
  for (const auto& p : periods_) {
    json targets = json::object();
    for (const auto& q : p.quantities)
      targets[q.name] = {
          {"value", number(q.target)}, {"tolerance", number(q.tolerance)}, {"unit", q.unit}};
    list.push_back({{"name", p.name}, {"start", hh_mm(p.start_minute)}, {"targets", targets}});
  }
  return json{{"periods", list}}.dump(2) + "\n";
}

}  // namespace iotxmpp
