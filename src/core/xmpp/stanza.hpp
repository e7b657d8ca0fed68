#pragma once
// What the server writes at the stream level: its stream header, stream
// errors, stanza errors and replies, and builders for the three stanza kinds.

#include <pugixml.hpp>

#include <string>
#include <string_view>

#include "core/xml/conditions.hpp"
#include "core/xml/xml_element.hpp"
#include "core/xmpp/namespaces.hpp"

namespace iotxmpp {

// The server's stream header, XML declaration included:
// <?xml version='1.0'?><stream:stream xmlns='jabber:client'
// xmlns:stream='http://etherx.jabber.org/streams' from='FROM' id='ID'
// version='1.0' to='TO' xml:lang='en'>, with to='TO' left out when `to` is
// empty. Values are escaped.
std::string stream_open_text(std::string_view from, std::string_view id, std::string_view to = {});

// A fresh stream id: 128 bits from the system's random source, as 32
// lower-case hex digits (RFC 6120 §4.7.3 wants it unique and unpredictable).
std::string new_stream_id();

// A stream error and the stream's end tag:
// <stream:error><COND xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>
// [<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>TEXT</text>]
// [APP]</stream:error></stream:stream>. `app` is an optional
// application-specific condition, e.g. XEP-0205's
// <stanza-too-big xmlns='urn:xmpp:errors'/>; it is not kept.
std::string stream_error(stream_condition c, std::string_view text = {},
                         const xml_element* app = nullptr);

// <error type='TYPE'><COND xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
// [<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>TEXT</text>]
// </error>, TYPE being default_error_type(c).
xml_element stanza_error(stanza_condition c, std::string_view text = {});

// The error reply to `request` (RFC 6120 §8.3.1): the same element name, its
// `id` when it had one, type='error', `from` and `to` as given (left out when
// empty), and the stanza_error child. The request's payload is not echoed.
xml_element error_reply(pugi::xml_node request, stanza_condition c, std::string_view from,
                        std::string_view to, std::string_view text = {});

// <iq type='result' id='ID' from='FROM' to='TO'/>, to which the caller adds a
// payload. Empty values are left out.
xml_element iq_result(std::string_view id, std::string_view from, std::string_view to);

// Builders for the three stanza kinds; an empty value leaves its attribute
// out. Attributes come in parameter order.
xml_element message(std::string_view to, std::string_view id, std::string_view type = {});
xml_element presence(std::string_view type = {});
xml_element iq(std::string_view type, std::string_view id, std::string_view to = {});

}  // namespace iotxmpp
