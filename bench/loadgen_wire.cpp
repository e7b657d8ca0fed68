#include "loadgen_wire.hpp"

#include "loadgen_scram.hpp"

namespace loadgen {
namespace {

void put_u16(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_mqtt_string(std::string& out, std::string_view s) {
  put_u16(out, s.size());
  out.append(s);
}

// MQTT's variable-length "remaining length".
void put_remaining_length(std::string& out, std::size_t n) {
  do {
    auto byte = static_cast<unsigned char>(n % 128);
    n /= 128;
    if (n > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n > 0);
}

}  // namespace

std::string xmpp_stream_header(std::string_view domain) {
  std::string s =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='";
  s += domain;
  s += "' version='1.0'>";
  return s;
}

std::string xmpp_auth_anonymous() {
  return "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>";
}

std::string xmpp_starttls() { return "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"; }

std::string xmpp_auth(std::string_view mechanism, std::string_view initial) {
  std::string s = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='";
  s += mechanism;
  s += "'>";
  s += initial.empty() ? std::string("=") : base64_encode(initial);
  s += "</auth>";
  return s;
}

std::string xmpp_sasl_response(std::string_view data) {
  return "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64_encode(data) +
         "</response>";
}

std::string xmpp_bind(std::string_view id) {
  std::string s = "<iq type='set' id='";
  s += id;
  s += "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
  return s;
}

std::string xmpp_ping(std::string_view domain, std::string_view id) {
  std::string s = "<iq type='get' id='";
  s += id;
  s += "' to='";
  s += domain;
  s += "'><ping xmlns='urn:xmpp:ping'/></iq>";
  return s;
}

std::string xmpp_recommend(std::string_view domain, std::string_view id, std::string_view room) {
  std::string s = "<iq type='get' id='";
  s += id;
  s += "' to='";
  s += domain;
  s += "'><recommend xmlns='urn:iotxmpp:recommend:0' room='";
  s += room;
  s += "'/></iq>";
  return s;
}

std::string xmpp_report(std::string_view to, std::string_view id, std::uint64_t seqnr,
                        std::string_view room, std::size_t size) {
  std::string head = "<message to='";
  head += to;
  head += "' id='";
  head += id;
  head += "'";
  std::string body = "><fields xmlns='urn:xmpp:iot:sensordata' seqnr='";
  body += std::to_string(seqnr);
  body += "' done='true'><node nodeId='";
  body += room;
  body +=
      "'><timestamp value='2026-11-24T08:00:00+01:00'>"
      "<numeric name='temperature' value='21.5'/>"
      "<numeric name='humidity' value='40.2'/>"
      "<numeric name='brightness' value='310'/>"
      "</timestamp></node></fields></message>";
  if (head.size() + body.size() < size) head.append(size - head.size() - body.size(), ' ');
  return head + body;
}

std::string mqtt_connect(std::string_view client_id, std::string_view username,
                         std::string_view password) {
  std::string var;
  put_mqtt_string(var, "MQTT");
  var.push_back(4);  // protocol level 3.1.1
  // clean session; username and password flags when there is a username
  var.push_back(static_cast<char>(username.empty() ? 0x02 : 0xC2));
  put_u16(var, 0);  // no keep-alive: idle sessions must stay without pings
  put_mqtt_string(var, client_id);
  if (!username.empty()) {
    put_mqtt_string(var, username);
    put_mqtt_string(var, password);
  }
  std::string p(1, '\x10');
  put_remaining_length(p, var.size());
  return p + var;
}

std::string mqtt_publish(std::string_view topic, std::string_view payload, int qos,
                         std::uint16_t packet_id) {
  std::string p(1, static_cast<char>(0x30 | (qos << 1)));
  std::size_t rest = 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size();
  put_remaining_length(p, rest);
  put_mqtt_string(p, topic);
  if (qos > 0) put_u16(p, packet_id);
  p.append(payload);
  return p;
}

std::string mqtt_pingreq() { return std::string("\xC0\x00", 2); }

}  // namespace loadgen
