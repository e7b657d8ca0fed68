/* A room device written against libstrophe, the XMPP client library found on
 * embedded devices: it connects anonymously, sends one status report, asks
 * for a recommendation, prints the answer on stdout and exits 0.
 *
 *   strophe_device HOST PORT ROOM REPORT_ID
 *
 * With STROPHE_JID (an account, NAME@DOMAIN) and STROPHE_PASSWORD it logs
 * in with the strongest SASL mechanism libstrophe shares with the server
 * (SCRAM-SHA-256 against iotxmpp), over mandatory TLS verified against
 * STROPHE_CAFILE. STROPHE_DEBUG=1 logs the XML libstrophe sends and receives
 * on stderr.
 *
 * Exit codes: 0 ok, 1 connection or protocol failure, 2 usage, 3 timeout.
 * Built only to prove interoperability (tests/interop); it is also the
 * starting point of examples/strophe-device.c. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

struct device {
  xmpp_ctx_t* ctx;
  const char* room;
  const char* report_id;
  int status; /* -1 running, else the exit code */
  int pending_status; /* the exit code once a linger is over */
};

static int on_linger_over(xmpp_conn_t* conn, void* userdata) {
  struct device* d = userdata;
  d->status = d->pending_status;
  xmpp_disconnect(conn);
  return 0;
}

static int on_recommend(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) {
  struct device* d = userdata;
  char* text = NULL;
  size_t len = 0;
  const char* type = xmpp_stanza_get_type(stanza);
  if (xmpp_stanza_to_text(stanza, &text, &len) == XMPP_EOK) {
    printf("%s\n", text);
    xmpp_free(d->ctx, text);
  }
  d->status = (type && strcmp(type, "result") == 0) ? 0 : 1;
  const char* sm_request = getenv("STROPHE_SM_REQUEST");
  if (sm_request && *sm_request == '1') {
    /* Stay a moment for the XEP-0198 ack (libstrophe reads it itself). */
    d->status = -1;
    d->pending_status = (type && strcmp(type, "result") == 0) ? 0 : 1;
    xmpp_timed_handler_add(conn, on_linger_over, 1500, d);
    return 0;
  }
  xmpp_disconnect(conn);
  return 0;
}

static void send_text(xmpp_conn_t* conn, xmpp_ctx_t* ctx, const char* xml) {
  xmpp_stanza_t* s = xmpp_stanza_new_from_string(ctx, xml);
  xmpp_send(conn, s);
  xmpp_stanza_release(s);
}

static void on_connection(xmpp_conn_t* conn, xmpp_conn_event_t event, int error,
                          xmpp_stream_error_t* stream_error, void* userdata) {
  struct device* d = userdata;
  (void)error;
  (void)stream_error;
  if (event != XMPP_CONN_CONNECT) {
    if (d->status < 0) d->status = 1;
    xmpp_stop(d->ctx);
    return;
  }
  fprintf(stderr, "bound as %s\n", xmpp_conn_get_bound_jid(conn));

  char stamp[32];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  char report[1024];
  snprintf(report, sizeof report,
           "<message to='iot.local' id='%s'>"
           "<fields xmlns='urn:xmpp:iot:sensordata' seqnr='1' done='true'>"
           "<node nodeId='%s'><timestamp value='%s'>"
           "<numeric name='temperature' value='19.25' unit='°C' momentary='true'/>"
           "<numeric name='humidity' value='51' unit='%%' momentary='true'/>"
           "<numeric name='brightness' value='120' unit='lx' momentary='true'/>"
           "</timestamp></node></fields></message>",
           d->report_id, d->room, stamp);
  send_text(conn, d->ctx, report);
  /* STROPHE_SM_REQUEST=1: ask for an XEP-0198 ack after the report (the
   * server answers once the report is stored). */
  const char* sm_request = getenv("STROPHE_SM_REQUEST");
  if (sm_request && *sm_request == '1') xmpp_send_raw_string(conn, "<r xmlns='urn:xmpp:sm:3'/>");

  char iq[512];
  snprintf(iq, sizeof iq,
           "<iq type='get' id='rec1' to='iot.local'>"
           "<recommend xmlns='urn:iotxmpp:recommend:0' room='%s'/></iq>",
           d->room);
  xmpp_id_handler_add(conn, on_recommend, "rec1", d);
  send_text(conn, d->ctx, iq);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s HOST PORT ROOM REPORT_ID\n", argv[0]);
    return 2;
  }
  struct device d = {NULL, argv[3], argv[4], -1, -1};
  xmpp_initialize();
  const char* debug = getenv("STROPHE_DEBUG");
  d.ctx =
      xmpp_ctx_new(NULL, debug && *debug == '1' ? xmpp_get_default_logger(XMPP_LEVEL_DEBUG) : NULL);
  xmpp_conn_t* conn = xmpp_conn_new(d.ctx);
  const char* jid = getenv("STROPHE_JID");
  if (jid && *jid) {
    const char* password = getenv("STROPHE_PASSWORD");
    const char* cafile = getenv("STROPHE_CAFILE");
    xmpp_conn_set_jid(conn, jid);
    xmpp_conn_set_pass(conn, password ? password : "");
    if (cafile && *cafile) xmpp_conn_set_cafile(conn, cafile);
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS);
  } else {
    /* A JID with no localpart makes libstrophe authenticate ANONYMOUS. */
    xmpp_conn_set_jid(conn, "iot.local");
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_TLS);
  }
  if (xmpp_connect_client(conn, argv[1], (unsigned short)atoi(argv[2]), on_connection, &d) !=
      XMPP_EOK) {
    fprintf(stderr, "cannot connect to %s:%s\n", argv[1], argv[2]);
    return 1;
  }
  time_t deadline = time(NULL) + 10;
  while (d.status < 0 && time(NULL) < deadline) xmpp_run_once(d.ctx, 100);
  int status = d.status < 0 ? 3 : d.status;
  xmpp_conn_release(conn);
  xmpp_ctx_free(d.ctx);
  xmpp_shutdown();
  return status;
}
