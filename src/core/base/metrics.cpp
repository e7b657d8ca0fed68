#include "core/base/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace iotxmpp::metrics {
namespace {

// The stripe a thread counts into: threads take stripes in turn.
std::size_t this_thread_stripe(std::size_t stripes) {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % stripes;
}

std::string_view type_name(kind k) {
  switch (k) {
    case kind::counter:
      return "counter";
    case kind::gauge:
      return "gauge";
    case kind::histogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text: backslash and line feed escaped.
void append_help(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// A label value: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// {a="x",b="y"} with `extra` (le="...") last; nothing when there are none.
void append_labels(std::string& out, const labels& l,
                   std::pair<std::string_view, std::string_view> extra = {}) {
  if (l.empty() && extra.first.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : l) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_label_value(out, value);
    out += '"';
  }
  if (!extra.first.empty()) {
    if (!first) out += ',';
    out += extra.first;
    out += "=\"";
    append_label_value(out, extra.second);
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const labels& l, std::string_view value,
                   std::pair<std::string_view, std::string_view> extra = {}) {
  out += name;
  out += suffix;
  append_labels(out, l, extra);
  out += ' ';
  out += value;
  out += '\n';
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(letter || (digit && i > 0) || (c == ':' && i > 0))) return false;
  }
  return true;
}

}  // namespace

// --- counter, histogram ------------------------------------------------------

void counter::add(std::uint64_t n) noexcept {
  cells_[this_thread_stripe(stripes)].n.fetch_add(n, std::memory_order_relaxed);
}

std::uint64_t counter::value() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& c : cells_) sum += c.n.load(std::memory_order_relaxed);
  return sum;
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      throw std::logic_error("histogram bounds must be finite and strictly ascending");
}

void histogram::observe(double v) noexcept {
  // A handful of bounds: a linear scan beats a binary search here.
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram::reading histogram::read() const {
  reading r;
  r.cumulative.resize(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    r.cumulative[i] = total;
  }
  r.sum = sum_.load(std::memory_order_relaxed);
  return r;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Plain decimals where they stay short ("0.0001", "50000", as people
  // write bucket bounds), the shortest form otherwise ("1e+21").
  const double magnitude = std::fabs(v);
  const bool plain = v == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, ec] = plain ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// --- registry ------------------------------------------------------------

struct registry::member {
  metrics::labels labels;
  std::unique_ptr<metrics::counter> counter;
  std::unique_ptr<metrics::gauge> gauge;
  std::unique_ptr<metrics::histogram> histogram;
  std::vector<std::pair<std::uint64_t, std::function<double()>>> callbacks;  // the last one reads
};

struct registry::family {
  std::string name, help;
  metrics::kind kind;
  std::vector<std::unique_ptr<member>> members;
};

registry::registry() = default;
registry::~registry() = default;

registry::family& registry::family_of(std::string_view name, std::string_view help, kind k) {
  for (auto& f : families_) {
    if (f->name != name) continue;
    if (f->kind != k)
      throw std::logic_error("metric " + std::string(name) + " registered as " +
                             std::string(type_name(f->kind)) + " and " + std::string(type_name(k)));
    return *f;
  }
  if (!valid_name(name)) throw std::logic_error("bad metric name: " + std::string(name));
  families_.push_back(
      std::make_unique<family>(family{std::string(name), std::string(help), k, {}}));
  return *families_.back();
}

registry::member& registry::member_of(family& f, const labels& l) {
  for (auto& m : f.members)
    if (m->labels == l) return *m;
  for (const auto& [name, value] : l)
    if (!valid_name(name) || name.find(':') != std::string::npos || name.starts_with("__") ||
        (f.kind == kind::histogram && name == "le"))
      throw std::logic_error("bad label name " + name + " on " + f.name);
  f.members.push_back(std::make_unique<member>());
  f.members.back()->labels = l;
  return *f.members.back();
}

counter& registry::add_counter(std::string_view name, std::string_view help, const labels& l) {
  std::lock_guard lock(mutex_);
  member& m = member_of(family_of(name, help, kind::counter), l);
  if (!m.counter) m.counter = std::make_unique<counter>();
  return *m.counter;
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, const labels& l) {
  std::lock_guard lock(mutex_);
  member& m = member_of(family_of(name, help, kind::gauge), l);
  if (!m.gauge) m.gauge = std::make_unique<gauge>();
  return *m.gauge;
}

histogram& registry::add_histogram(std::string_view name, std::string_view help,
                                   std::vector<double> bounds, const labels& l) {
  std::lock_guard lock(mutex_);
  member& m = member_of(family_of(name, help, kind::histogram), l);
  if (!m.histogram) m.histogram = std::make_unique<histogram>(std::move(bounds));
  return *m.histogram;
}

callback_handle registry::add_callback(std::string_view name, std::string_view help, kind k,
                                       const labels& l, std::function<double()> read) {
  if (k == kind::histogram) throw std::logic_error("a callback cannot be a histogram");
  std::lock_guard lock(mutex_);
  member& m = member_of(family_of(name, help, k), l);
  const std::uint64_t id = next_callback_++;
  m.callbacks.emplace_back(id, std::move(read));
  return callback_handle(this, id);
}

void registry::remove_callback(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  for (auto& f : families_)
    for (auto& m : f->members)
      std::erase_if(m->callbacks, [id](const auto& c) { return c.first == id; });
}

std::string registry::render() const {
  std::lock_guard lock(mutex_);
  std::vector<const family*> sorted;
  for (const auto& f : families_) sorted.push_back(f.get());
  std::sort(sorted.begin(), sorted.end(),
            [](const family* a, const family* b) { return a->name < b->name; });
  std::string out;
  for (const family* f : sorted) {
    std::string body;
    for (const auto& m : f->members) {
      if (!m->callbacks.empty()) {
        append_sample(body, f->name, "", m->labels, format_value(m->callbacks.back().second()));
      } else if (m->counter) {
        append_sample(body, f->name, "", m->labels, std::to_string(m->counter->value()));
      } else if (m->gauge) {
        append_sample(body, f->name, "", m->labels, format_value(m->gauge->value()));
      } else if (m->histogram) {
        const auto r = m->histogram->read();
        const auto& bounds = m->histogram->bounds();
        for (std::size_t i = 0; i <= bounds.size(); ++i) {
          const std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
          append_sample(body, f->name, "_bucket", m->labels, std::to_string(r.cumulative[i]),
                        {"le", le});
        }
        append_sample(body, f->name, "_sum", m->labels, format_value(r.sum));
        append_sample(body, f->name, "_count", m->labels, std::to_string(r.cumulative.back()));
      }
    }
    if (body.empty()) continue;  // only callbacks, all gone
    out += "# HELP ";
    out += f->name;
    out += ' ';
    append_help(out, f->help);
    out += "\n# TYPE ";
    out += f->name;
    out += ' ';
    out += type_name(f->kind);
    out += '\n';
    out += body;
  }
  return out;
}

registry& global() {
  // Never destroyed: counters may be touched by threads that outlive main's
  // statics (a detached writer during exit).
  static registry* r = new registry;
  return *r;
}

// --- callback_handle ---------------------------------------------------------

callback_handle& callback_handle::operator=(callback_handle&& o) noexcept {
  if (this != &o) {
    reset();
    registry_ = std::exchange(o.registry_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

void callback_handle::reset() {
  if (registry_) registry_->remove_callback(id_);
  registry_ = nullptr;
}

}  // namespace iotxmpp::metrics
