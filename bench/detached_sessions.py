#!/usr/bin/env python3
# Server memory per session, by RSS growth over N sessions on one serve:
#   plain     bound, idle;
#   live-sm   bound, XEP-0198 enabled with resumption, idle;
#   detached  the same, then the TCP connection dropped: the session waits
#             for <resume/> (issue 13).
# Usage: bench/detached_sessions.py PORT SERVE_PID N MODE
# (serve with --max-connect-rate 0 if the clients are not on loopback.)
import socket, sys, time, os
port=int(sys.argv[1]); pid=int(sys.argv[2]); n=int(sys.argv[3]); mode=sys.argv[4]
H="<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='iot.local' version='1.0'>"
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
def until(s, needle):
    buf=b""
    while needle not in buf:
        d=s.recv(65536)
        if not d: raise Exception("closed")
        buf+=d
    return buf
time.sleep(0.5); before=rss(); socks=[]
for i in range(n):
    s=socket.create_connection(("127.0.0.%d"%(1+i%8), port)) if False else socket.create_connection(("127.0.0.1",port))
    s.sendall(H.encode()); until(s,b"</stream:features>")
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>"); until(s,b"/>")
    s.sendall(H.encode()); until(s,b"</stream:features>")
    s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"); until(s,b"</iq>")
    if mode!="plain":
        s.sendall(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>"); until(s,b"/>")
    if mode=="detached": s.close()
    else: socks.append(s)
time.sleep(2); after=rss()
print(mode, n, "sessions:", (after-before)*1024//n, "bytes each (RSS)")
