// stream_framer: every stream error with its exact RFC 6120 condition, each
// found the same whether the stream arrives at once or a byte at a time.

#include <gtest/gtest.h>

#include <string>

#include "core/xml/stream_framer.hpp"
#include "support/framer_events.hpp"

namespace iotxmpp {
namespace {

using test::client_header;

// The condition the framer reports for the header followed by `body`, fed
// whole; the byte-by-byte run must end in the same error.
std::string condition_after_header(std::string_view body) {
  const std::string stream = std::string(client_header) + std::string(body);
  const std::string whole = test::last_event(stream);
  const std::string bytewise = test::frame_bytewise(stream).back();
  EXPECT_EQ(whole, bytewise) << body;
  if (!whole.starts_with("error ")) return "no error: " + whole;
  return whole.substr(6, whole.find(':') - 6);
}

std::string condition_of_stream(std::string_view stream) {
  const std::string whole = test::last_event(stream);
  EXPECT_EQ(whole, test::frame_bytewise(stream).back()) << stream;
  if (!whole.starts_with("error ")) return "no error: " + whole;
  return whole.substr(6, whole.find(':') - 6);
}

TEST(StreamFramerErrors, MismatchedTagsAreNotWellFormed) {
  EXPECT_EQ(condition_after_header("<message></messag>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message></messages>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message><body></message>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<a><b></a></b>"), "not-well-formed");
}

TEST(StreamFramerErrors, StreamCloseWithAnotherNameIsNotWellFormed) {
  EXPECT_EQ(condition_after_header("</stream:streams>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("</stream>"), "not-well-formed");
}

TEST(StreamFramerErrors, BadAttributeSyntaxIsNotWellFormed) {
  EXPECT_EQ(condition_after_header("<message id=x/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message id/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message id='x' ='y'/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message id='x'to='y'/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message id='x' / >"), "not-well-formed");
}

TEST(StreamFramerErrors, LessThanInAttributeValueIsNotWellFormed) {
  EXPECT_EQ(condition_after_header("<message id='a<b'/>"), "not-well-formed");
}

TEST(StreamFramerErrors, DuplicateAttributesAreNotWellFormed) {
  EXPECT_EQ(condition_after_header("<message id='1' id='2'/>"), "not-well-formed");
  // Many attributes take the sorting path of the check.
  std::string many = "<message";
  for (int i = 0; i < 40; ++i) many += " a" + std::to_string(i) + "='v'";
  EXPECT_EQ(test::last_event(std::string(client_header) + many + "/>").substr(0, 7), "element");
  EXPECT_EQ(condition_after_header(many + " a17='w'/>"), "not-well-formed");
}

TEST(StreamFramerErrors, BadNamesAreNotWellFormed) {
  EXPECT_EQ(condition_after_header("<1message/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("< message/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message -id='1'/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<mes\xc3\x97sage/>"), "not-well-formed");  // U+00D7
  EXPECT_EQ(condition_after_header("<message></ message>"), "not-well-formed");
}

TEST(StreamFramerErrors, TextBetweenStanzasIsNotWellFormed) {
  EXPECT_EQ(condition_after_header("hello"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<presence/> x <presence/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("&amp;"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<![CDATA[x]]>"), "not-well-formed");
}

TEST(StreamFramerErrors, TextOrStrayEndTagBeforeHeaderIsNotWellFormed) {
  EXPECT_EQ(condition_of_stream("hello"), "not-well-formed");
  EXPECT_EQ(condition_of_stream("</stream:stream>"), "not-well-formed");
}

TEST(StreamFramerErrors, DataAfterStreamCloseIsNotWellFormed) {
  const auto e = test::frame_whole(std::string(client_header) + "</stream:stream> \n<presence/>");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1], "close");
  EXPECT_TRUE(e[2].starts_with("error not-well-formed")) << e[2];
}

TEST(StreamFramerErrors, CloseBracketsInTextAreNotWellFormed) {
  EXPECT_EQ(condition_after_header("<body>a]]>b</body>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<body>a]]]>b</body>"), "not-well-formed");
}

TEST(StreamFramerErrors, InvalidUtf8IsNotWellFormed) {
  const char* const bad[] = {
      "\xc0\x80",          // overlong NUL
      "\xc1\xbf",          // overlong
      "\xe0\x80\x80",      // overlong three bytes
      "\xe0\x9f\xbf",      // overlong three bytes, top
      "\xf0\x8f\xbf\xbf",  // overlong four bytes
      "\xed\xa0\x80",      // surrogate U+D800
      "\xed\xbf\xbf",      // surrogate U+DFFF
      "\xf4\x90\x80\x80",  // U+110000
      "\xf5\x80\x80\x80",  // lead byte beyond U+10FFFF
      "\xff",              //
      "\x80",              // lone continuation
      "\xc3x",             // truncated, then ASCII
      "\xe2\x82x",         // truncated three-byte sequence
      "\xf0\x9f\x98",      // truncated four-byte sequence before '<'
  };
  for (const char* b : bad) {
    EXPECT_EQ(condition_after_header(std::string("<body>") + b + "</body>"), "not-well-formed")
        << b;
    EXPECT_EQ(condition_after_header(std::string("<m a='") + b + "'/>"), "not-well-formed") << b;
  }
}

TEST(StreamFramerErrors, ForbiddenCharactersAreNotWellFormed) {
  EXPECT_EQ(condition_after_header(std::string("<body>a\0b</body>", 16)), "not-well-formed");
  EXPECT_EQ(condition_after_header("<body>\x01</body>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<m a='\x1f'/>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<body>\xef\xbf\xbe</body>"), "not-well-formed");  // U+FFFE
  EXPECT_EQ(condition_after_header("<body>\xef\xbf\xbf</body>"), "not-well-formed");  // U+FFFF
  EXPECT_EQ(condition_after_header("\x0c"), "not-well-formed");  // form feed is not space
}

TEST(StreamFramerErrors, CharacterReferenceToForbiddenCharacterIsNotWellFormed) {
  for (const char* ref : {"&#0;", "&#x1;", "&#xD800;", "&#xDFFF;", "&#xFFFE;", "&#x110000;",
                          "&#99999999999999999999;", "&#xFFFFFFFFFFFF;"}) {
    EXPECT_EQ(condition_after_header(std::string("<body>") + ref + "</body>"), "not-well-formed")
        << ref;
  }
}

TEST(StreamFramerErrors, MalformedReferencesAreNotWellFormed) {
  for (const char* ref :
       {"&;", "&#;", "&#x;", "&#12a;", "&#X41;", "& amp;", "&amp", "&a-", "&#-1;"}) {
    EXPECT_EQ(condition_after_header(std::string("<body>") + ref + " </body>"), "not-well-formed")
        << ref;
  }
}

TEST(StreamFramerErrors, EmptyMarkupDeclarationIsNotWellFormed) {
  EXPECT_EQ(condition_after_header("<message><!x></message>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message><!-x--></message>"), "not-well-formed");
  EXPECT_EQ(condition_after_header("<message><![CDATAX[</message>"), "not-well-formed");
}

TEST(StreamFramerErrors, BadDeclarationIsNotWellFormed) {
  EXPECT_EQ(condition_of_stream("<?xml?><stream:stream>"), "not-well-formed");
  EXPECT_EQ(condition_of_stream("<?xml encoding='UTF-8'?><x/>"), "not-well-formed");
  EXPECT_EQ(condition_of_stream("<?xml version='2.0'?><x/>"), "not-well-formed");
  EXPECT_EQ(condition_of_stream("<?xml version='1.0' standalone='maybe'?><x/>"), "not-well-formed");
  EXPECT_EQ(condition_of_stream("<?xml version='1.0'encoding='UTF-8'?><x/>"), "not-well-formed");
  EXPECT_EQ(condition_of_stream("<?xml standalone='yes' version='1.0'?><x/>"), "not-well-formed");
}

TEST(StreamFramerErrors, EncodingOtherThanUtf8IsUnsupported) {
  EXPECT_EQ(condition_of_stream("<?xml version='1.0' encoding='ISO-8859-1'?>"),
            "unsupported-encoding");
}

TEST(StreamFramerRestricted, DoctypeIsRestricted) {
  EXPECT_EQ(condition_of_stream("<?xml version='1.0'?><!DOCTYPE stream:stream>"), "restricted-xml");
  EXPECT_EQ(condition_after_header("<!DOCTYPE x>"), "restricted-xml");
}

TEST(StreamFramerRestricted, EntityDeclarationIsRestricted) {
  EXPECT_EQ(condition_after_header("<!ENTITY lol 'lol'>"), "restricted-xml");
  EXPECT_EQ(condition_of_stream("<!ENTITY x 'y'>"), "restricted-xml");
}

TEST(StreamFramerRestricted, OtherDtdDeclarationsAreRestricted) {
  EXPECT_EQ(condition_after_header("<!ELEMENT x ANY>"), "restricted-xml");
  EXPECT_EQ(condition_after_header("<!ATTLIST x a CDATA #IMPLIED>"), "restricted-xml");
  EXPECT_EQ(condition_after_header("<!NOTATION x SYSTEM 'y'>"), "restricted-xml");
}

TEST(StreamFramerRestricted, UndeclaredEntityReferenceInTextIsRestricted) {
  EXPECT_EQ(condition_after_header("<body>&nbsp;</body>"), "restricted-xml");
  EXPECT_EQ(condition_after_header("<body>&ampx;</body>"), "restricted-xml");
  EXPECT_EQ(condition_after_header("<body>&averylongentityname;</body>"), "restricted-xml");
  EXPECT_EQ(condition_after_header("<body>&\xc3\xa9t\xc3\xa9;</body>"), "restricted-xml");
}

TEST(StreamFramerRestricted, UndeclaredEntityReferenceInAttributeIsRestricted) {
  EXPECT_EQ(condition_after_header("<message id='&foo;'/>"), "restricted-xml");
}

TEST(StreamFramerRestricted, ProcessingInstructionInStanzaIsRestricted) {
  EXPECT_EQ(condition_after_header("<message><?php echo 1; ?></message>"), "restricted-xml");
}

TEST(StreamFramerRestricted, ProcessingInstructionBetweenStanzasIsRestricted) {
  EXPECT_EQ(condition_after_header("<?foo bar?>"), "restricted-xml");
}

TEST(StreamFramerRestricted, DeclarationAnywhereButTheStartIsRestricted) {
  EXPECT_EQ(condition_after_header("<?xml version='1.0'?>"), "restricted-xml");
  EXPECT_EQ(condition_of_stream(" <?xml version='1.0'?>"), "restricted-xml");
}

TEST(StreamFramerRestricted, LeadingProcessingInstructionOtherThanDeclarationIsRestricted) {
  EXPECT_EQ(condition_of_stream("<?xml-stylesheet href='a'?>"), "restricted-xml");
  EXPECT_EQ(condition_of_stream("<?foo?>"), "restricted-xml");
}

TEST(StreamFramerRestricted, CommentBetweenStanzasIsRestricted) {
  EXPECT_EQ(condition_after_header("<!-- hi -->"), "restricted-xml");
}

TEST(StreamFramerRestricted, CommentInStanzaIsRestricted) {
  EXPECT_EQ(condition_after_header("<message><!-- hi --></message>"), "restricted-xml");
}

TEST(StreamFramerRestricted, CommentBeforeHeaderIsRestricted) {
  EXPECT_EQ(condition_of_stream("<?xml version='1.0'?><!-- hi --><stream:stream>"),
            "restricted-xml");
}

TEST(StreamFramerErrors, ErrorIsSticky) {
  stream_framer framer;
  ASSERT_EQ(framer.feed(client_header).what, stream_framer::status::stream_open);
  const auto bad = framer.feed("<a></b>");
  EXPECT_EQ(bad.what, stream_framer::status::error);
  EXPECT_EQ(bad.consumed, 5u);  // up to the offending 'b'
  EXPECT_EQ(framer.error_condition(), stream_condition::not_well_formed);
  EXPECT_EQ(framer.error_text(), "end tag does not match");
  const auto again = framer.feed("<presence/>");
  EXPECT_EQ(again.what, stream_framer::status::error);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(framer.error_condition(), stream_condition::not_well_formed);
}

}  // namespace
}  // namespace iotxmpp
