/* A minimal room device on libstrophe, the C XMPP library of many embedded
 * devices. It connects anonymously, reports its room's readings every few
 * seconds (XEP-0323 sensor data), asks for the recommended status after each
 * report and prints it. Replace read_sensors() with the real sensors.
 *
 *   cc -o device device.c $(pkg-config --cflags --libs libstrophe)
 *   ./device HOST PORT ROOM [REPORTS [SECONDS]]     e.g. ./device localhost 5222 kitchen
 *
 * Exits 0 after REPORTS reports (default: run forever), 1 when the
 * connection fails or ends. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

#define DOMAIN "iot.local" /* serve --domain */

struct device {
  xmpp_ctx_t* ctx;
  const char* room;
  int reports_left; /* < 0: forever */
  int sent;
  int exit_code; /* -1 while running */
};

/* Fake sensors: a slowly warming room. */
static void read_sensors(int n, double* celsius, double* humidity, double* lux) {
  *celsius = 19.0 + 0.1 * n;
  *humidity = 48.0;
  *lux = 250.0;
}

static void send_xml(xmpp_conn_t* conn, xmpp_ctx_t* ctx, const char* xml) {
  xmpp_stanza_t* stanza = xmpp_stanza_new_from_string(ctx, xml);
  xmpp_send(conn, stanza);
  xmpp_stanza_release(stanza);
}

/* Prints each target of a recommend result: "temperature 21 °C raise". */
static int on_recommendation(xmpp_conn_t* conn, xmpp_stanza_t* iq, void* data) {
  struct device* d = data;
  xmpp_stanza_t* rec = xmpp_stanza_get_child_by_name(iq, "recommend");
  if (!rec) {
    fprintf(stderr, "error answer to a recommend\n");
  } else {
    printf("%s (%s):", d->room, xmpp_stanza_get_attribute(rec, "period"));
    for (xmpp_stanza_t* t = xmpp_stanza_get_children(rec); t; t = xmpp_stanza_get_next(t))
      printf(" %s=%s%s:%s", xmpp_stanza_get_attribute(t, "name"),
             xmpp_stanza_get_attribute(t, "value"), xmpp_stanza_get_attribute(t, "unit"),
             xmpp_stanza_get_attribute(t, "action"));
    printf("\n");
    fflush(stdout);
  }
  if (d->reports_left == 0) xmpp_disconnect(conn);
  return 0; /* one answer per id */
}

/* Sends one report and asks for a recommendation; a timed handler. */
static int report(xmpp_conn_t* conn, void* data) {
  struct device* d = data;
  double celsius, humidity, lux;
  read_sensors(d->sent, &celsius, &humidity, &lux);

  char stamp[32], xml[1024], id[32];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  /* A resent report (same room and id) is stored once: make ids unique. */
  snprintf(id, sizeof id, "%ld-%d", (long)now, d->sent);
  snprintf(xml, sizeof xml,
           "<message to='" DOMAIN
           "' id='%s'>"
           "<fields xmlns='urn:xmpp:iot:sensordata' seqnr='%d' done='true'>"
           "<node nodeId='%s'><timestamp value='%s'>"
           "<numeric name='temperature' value='%.2f' unit='°C' momentary='true'/>"
           "<numeric name='humidity' value='%.1f' unit='%%' momentary='true'/>"
           "<numeric name='brightness' value='%.0f' unit='lx' momentary='true'/>"
           "</timestamp></node></fields></message>",
           id, d->sent, d->room, stamp, celsius, humidity, lux);
  send_xml(conn, d->ctx, xml);

  snprintf(id, sizeof id, "rec-%d", d->sent);
  snprintf(xml, sizeof xml,
           "<iq type='get' id='%s' to='" DOMAIN
           "'>"
           "<recommend xmlns='urn:iotxmpp:recommend:0' room='%s'/></iq>",
           id, d->room);
  xmpp_id_handler_add(conn, on_recommendation, id, d);
  send_xml(conn, d->ctx, xml);

  d->sent++;
  if (d->reports_left > 0) d->reports_left--;
  return d->reports_left != 0; /* keep the timer while reports are left */
}

static void on_connection(xmpp_conn_t* conn, xmpp_conn_event_t event, int error,
                          xmpp_stream_error_t* stream_error, void* data) {
  struct device* d = data;
  (void)error;
  (void)stream_error;
  if (event == XMPP_CONN_CONNECT) {
    fprintf(stderr, "connected as %s\n", xmpp_conn_get_bound_jid(conn));
    send_xml(conn, d->ctx, "<presence/>");
    report(conn, d);
    return;
  }
  d->exit_code = d->reports_left == 0 ? 0 : 1;
  xmpp_stop(d->ctx);
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    fprintf(stderr, "usage: %s HOST PORT ROOM [REPORTS [SECONDS]]\n", argv[0]);
    return 2;
  }
  struct device d = {NULL, argv[3], argc > 4 ? atoi(argv[4]) : -1, 0, -1};
  unsigned long period_ms = argc > 5 ? (unsigned long)(atof(argv[5]) * 1000) : 10000;

  xmpp_initialize();
  d.ctx = xmpp_ctx_new(NULL, NULL);
  xmpp_conn_t* conn = xmpp_conn_new(d.ctx);
  xmpp_conn_set_jid(conn, DOMAIN); /* no localpart: SASL ANONYMOUS */
  xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_TLS);
  xmpp_timed_handler_add(conn, report, period_ms, &d);
  if (xmpp_connect_client(conn, argv[1], (unsigned short)atoi(argv[2]), on_connection, &d) !=
      XMPP_EOK) {
    fprintf(stderr, "cannot connect to %s:%s\n", argv[1], argv[2]);
    return 1;
  }
  xmpp_run(d.ctx); /* until on_connection stops it */

  xmpp_conn_release(conn);
  xmpp_ctx_free(d.ctx);
  xmpp_shutdown();
  return d.exit_code < 0 ? 1 : d.exit_code;
}
