package httpserver

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ProxyTrust finds the client's address behind reverse proxies
// (TEND_TRUSTED_PROXIES). Anyone can send X-Forwarded-For, so the header is
// believed only when the socket's peer is a trusted proxy, and then only as
// far as the chain of trusted proxies goes: the answer is the rightmost
// address in the header that is not itself a trusted proxy (each proxy
// appends the address it received the request from; entries to the left of
// the first untrusted one were written by the client and may be forged).
// Without trusted proxies the socket's peer is the client.
type ProxyTrust struct {
	prefixes []netip.Prefix
}

// NewProxyTrust trusts the given networks.
func NewProxyTrust(prefixes []netip.Prefix) *ProxyTrust {
	return &ProxyTrust{prefixes: prefixes}
}

// ClientIP is the client's address as a string (an IP, or RemoteAddr as
// given when it is not host:port).
func (p *ProxyTrust) ClientIP(r *http.Request) string {
	peer, ok := peerAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !p.trusted(peer) {
		return peer.String()
	}
	hops := forwardedFor(r)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // a malformed hop: the last address we could vouch for stands
		}
		client = a
		if !p.trusted(a) {
			break
		}
	}
	return client.String()
}

// ForwardedTLS reports whether a trusted proxy says the client connected
// over TLS (X-Forwarded-Proto: https).
func (p *ProxyTrust) ForwardedTLS(r *http.Request) bool {
	peer, ok := peerAddr(r.RemoteAddr)
	if !ok || !p.trusted(peer) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func (p *ProxyTrust) trusted(a netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, pre := range p.prefixes {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// forwardedFor lists X-Forwarded-For's hops, left to right, across every
// copy of the header.
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
