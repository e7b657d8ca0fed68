#include "support/reporting_device.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace iotxmpp::test {
namespace {

using steady = std::chrono::steady_clock;

// The server's side of the stream as the framer must see it first: the
// stream header itself was read by negotiate().
constexpr std::string_view server_header =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "from='iot.local' version='1.0'>";

std::string report_stanza(const std::string& id, const std::string& room) {
  return "<message to='iot.local' id='" + id +
         "'><fields xmlns='urn:xmpp:iot:sensordata' seqnr='1' done='true'><node nodeId='" + room +
         "'><timestamp value='2026-11-24T08:00:00+01:00'><numeric name='temperature' "
         "value='21.5' unit='C' momentary='true'/><numeric name='humidity' value='40' unit='%' "
         "momentary='true'/></timestamp></node></fields></message>";
}

std::string_view local(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The batch number in an id like "v12" or "p12"; -1 when it is not one.
long batch_of(std::string_view id, char kind) {
  if (id.size() < 2 || id[0] != kind) return -1;
  long n = 0;
  for (char c : id.substr(1)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string condition_of(pugi::xml_node error) {
  for (auto child : error.children())
    if (local(child.name()) != "text") return std::string(local(child.name()));
  return "(none)";
}

}  // namespace

reporting_device::reporting_device(reporting_device_options options)
    : options_(std::move(options)), client_("127.0.0.1", options_.port) {
  jid_ = client_.negotiate(options_.name);
  if (options_.acks == ack_by::stream_management) {
    client_.send("<enable xmlns='urn:xmpp:sm:3'/>");
    std::string got = client_.read_until("<enabled");
    if (got.empty()) throw std::runtime_error("stream management not enabled");
    client_.read_until("/>");
  }
  if (framer_.feed(server_header).what != stream_framer::status::stream_open)
    throw std::runtime_error("the device's framer refused the stream header");
  thread_ = std::thread([this] { run(); });
}

reporting_device::~reporting_device() { stop(); }

void reporting_device::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void reporting_device::drop() {
  stop();
  client_.close();
}

void reporting_device::run() {
  auto next_send = steady::now();
  while (!stop_) {
    const bool may_send =
        !send_failed_ && !ended_ && !no_more_ &&
        (options_.window == 0 || batches_unacknowledged() < std::size_t(options_.window));
    auto now = steady::now();
    if (may_send && now >= next_send) {
      send_batch();
      next_send = now + options_.pause;
    }
    auto wait = std::chrono::milliseconds(20);
    if (may_send)
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(next_send - now),
                        std::chrono::milliseconds(0), wait);
    std::string bytes = client_.read_some(wait);
    if (!bytes.empty()) absorb(bytes);
    if (client_.closed()) {
      ended_ = true;
      return;
    }
  }
}

void reporting_device::send_batch() {
  std::string out;
  std::vector<std::string> ids;
  for (int i = 0; i < options_.batch; ++i) {
    std::string id = resent_ < options_.resend.size()
                         ? options_.resend[resent_++]
                         : options_.name + "-" + std::to_string(next_seq_++);
    out += report_stanza(id, options_.room);
    ids.push_back(std::move(id));
  }
  std::size_t number;
  {
    std::lock_guard lock(mutex_);
    number = batches_.size();
  }
  out += "<iq type='get' id='v" + std::to_string(number) +
         "' to='iot.local'><query xmlns='jabber:iq:version'/></iq>";
  stanzas_out_ += static_cast<std::uint32_t>(options_.batch) + 1;
  const std::uint32_t through = stanzas_out_;
  if (options_.acks == ack_by::ping) {
    out += "<iq type='get' id='p" + std::to_string(number) +
           "' to='iot.local'><ping xmlns='urn:xmpp:ping'/></iq>";
    ++stanzas_out_;
  } else {
    out += "<r xmlns='urn:xmpp:sm:3'/>";
  }
  {
    // Recorded before the bytes leave, so an answer always finds its batch.
    std::lock_guard lock(mutex_);
    batches_.push_back({ids_.size(), ids.size(), through});
    for (auto& id : ids) ids_.push_back(std::move(id));
  }
  try {
    client_.send(out);
  } catch (const std::exception&) {
    // The server closed the connection: what it says comes with the reads.
    send_failed_ = true;
  }
}

void reporting_device::absorb(std::string_view bytes) {
  while (!bytes.empty()) {
    auto o = framer_.feed(bytes);
    bytes.remove_prefix(o.consumed);
    switch (o.what) {
      case stream_framer::status::element:
        on_element(framer_.element());
        break;
      case stream_framer::status::stream_close:
        ended_ = true;
        return;
      case stream_framer::status::error: {
        std::lock_guard lock(mutex_);
        problems_.push_back("the server's stream broke: " + std::string(framer_.error_text()));
        ended_ = true;
        return;
      }
      case stream_framer::status::need_more:
      case stream_framer::status::stream_open:
        break;
    }
  }
}

void reporting_device::on_element(pugi::xml_node e) {
  const std::string_view name = local(e.name());
  const std::string_view id = e.attribute("id").value();
  const std::string_view type = e.attribute("type").value();
  std::lock_guard lock(mutex_);
  auto problem = [&](std::string what) {
    problems_.push_back(std::move(what) + " (id '" + std::string(id) + "')");
  };
  if (name == "iq" || name == "message" || name == "presence") ++stanzas_in_;
  if (name == "iq") {
    if (long n = batch_of(id, 'v'); n >= 0 && std::size_t(n) < batches_.size()) {
      if (type == "result")
        batches_accepted_ = std::max(batches_accepted_, std::size_t(n) + 1);
      else
        problem("version IQ answered with " + std::string(type));
      return;
    }
    if (long n = batch_of(id, 'p'); n >= 0 && std::size_t(n) < batches_.size()) {
      if (type == "result")
        batches_acknowledged_ = std::max(batches_acknowledged_, std::size_t(n) + 1);
      else
        problem("ping answered with an error: " + condition_of(e.child("error")));
      return;
    }
    problem("unexpected iq of type " + std::string(type));
  } else if (name == "message") {
    problem("report refused: " + condition_of(e.child("error")));
  } else if (name == "a") {
    const auto h = static_cast<std::uint32_t>(e.attribute("h").as_ullong());
    while (batches_acknowledged_ < batches_.size() &&
           batches_[batches_acknowledged_].stanzas_through <= h)
      ++batches_acknowledged_;
  } else if (name == "r") {
    // The server asks for an ack of what it sent (replies): give it, from
    // this thread, which is the only one that sends.
    const std::string answer = "<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(stanzas_in_) + "'/>";
    try {
      client_.send(answer);
    } catch (const std::exception&) {
      send_failed_ = true;
    }
  } else if (name == "error") {
    stream_error_ = condition_of(e);
  } else if (name != "presence") {
    problem("unexpected element <" + std::string(e.name()) + ">");
  }
}

reporting_device::counts reporting_device::count() const {
  std::lock_guard lock(mutex_);
  auto ids_through = [&](std::size_t batches) {
    return batches == 0 ? 0 : batches_[batches - 1].first + batches_[batches - 1].size;
  };
  return {ids_.size(), ids_through(batches_accepted_), ids_through(batches_acknowledged_)};
}

std::vector<std::string> reporting_device::ids_between(std::size_t from, std::size_t to) const {
  return {ids_.begin() + static_cast<std::ptrdiff_t>(from),
          ids_.begin() + static_cast<std::ptrdiff_t>(to)};
}

std::vector<std::string> reporting_device::sent_ids() const {
  std::lock_guard lock(mutex_);
  return ids_;
}

std::vector<std::string> reporting_device::accepted_ids() const {
  auto c = count();
  std::lock_guard lock(mutex_);
  return ids_between(0, c.accepted);
}

std::vector<std::string> reporting_device::acknowledged_ids() const {
  auto c = count();
  std::lock_guard lock(mutex_);
  return ids_between(0, c.acknowledged);
}

std::vector<std::string> reporting_device::unacknowledged_ids() const {
  auto c = count();
  std::lock_guard lock(mutex_);
  return ids_between(c.acknowledged, c.sent);
}

std::size_t reporting_device::batches_unacknowledged() const {
  std::lock_guard lock(mutex_);
  return batches_.size() - batches_acknowledged_;
}

std::string reporting_device::stream_error() const {
  std::lock_guard lock(mutex_);
  return stream_error_;
}

std::vector<std::string> reporting_device::problems() const {
  std::lock_guard lock(mutex_);
  return problems_;
}

}  // namespace iotxmpp::test
