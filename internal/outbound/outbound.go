// Package outbound is the one HTTP client herald uses for requests it makes
// itself (SPEC 9: ingest polls, WebSub intent checks and pushes, outgoing
// webhooks). Every request has a time limit and a User-Agent naming herald
// and its version, every response body a size limit, and by default no
// request reaches a loopback, link-local, private or unspecified address:
// the address is checked at dial time, after DNS resolution, so a name that
// resolves (or re-resolves: DNS rebinding) to an internal address is refused
// as well as a literal one (server-side request forgery). Tests and
// intranets allow private addresses with Options.AllowPrivate
// (HERALD_OUTBOUND_ALLOW_PRIVATE=true).
// It imports only the standard library.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults.
const (
	DefaultTimeout = 15 * time.Second
	DefaultMaxBody = 5 << 20
	maxRedirects   = 5
)

// ErrForbiddenAddress means the request would reach an address herald does
// not call by default (loopback, link-local, private, unspecified, ...).
var ErrForbiddenAddress = errors.New("outbound: address not allowed (loopback, link-local, private or unspecified)")

// ErrTooLarge means a response body passed the client's size limit.
var ErrTooLarge = errors.New("outbound: response body too large")

// ErrBadURL means a URL is not an absolute http or https URL with a host.
var ErrBadURL = errors.New("outbound: not an absolute http or https URL")

// Options configure a Client.
type Options struct {
	// UserAgent names herald and its version, e.g. "herald/1.2.3 (+https://press.example.org)".
	UserAgent string
	// Timeout bounds a whole request, body included; default DefaultTimeout.
	Timeout time.Duration
	// MaxBody caps response bodies read through ReadBody; default DefaultMaxBody.
	MaxBody int64
	// AllowPrivate lets requests reach loopback, link-local and private
	// addresses (tests, intranets).
	AllowPrivate bool
}

// Client makes herald's outbound requests.
type Client struct {
	hc   *http.Client
	opts Options
}

// New returns a client with its own transport.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "herald"
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivate {
		d.Control = refusePrivate
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would be dialed instead of the target, defeating the check
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("outbound: more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("outbound: redirect to %s: %w", req.URL.Scheme, ErrBadURL)
			}
			return nil
		},
	}
	return &Client{hc: hc, opts: opts}
}

// AllowsPrivate reports whether the client reaches private addresses.
func (c *Client) AllowsPrivate() bool { return c.opts.AllowPrivate }

// UserAgent is the User-Agent the client sends.
func (c *Client) UserAgent() string { return c.opts.UserAgent }

// Do sends req with herald's User-Agent (unless req has one) and the
// client's limits. The caller closes the response body; ReadBody reads it
// within the size limit.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := CheckURL(req.URL.String()); err != nil {
		return nil, err
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return nil, fmt.Errorf("%s: %w", req.URL.Host, ErrForbiddenAddress)
		}
		return nil, err
	}
	resp.Body = &limited{rc: resp.Body, left: c.opts.MaxBody}
	return resp, nil
}

// ReadBody reads and closes a response body of Do, failing with ErrTooLarge
// past the size limit.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// DrainClose reads at most 64 KiB of a body (so the connection can be
// reused) and closes it.
func DrainClose(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// limited fails a read that passes the limit, rather than silently
// truncating the body (a truncated feed would parse as a shorter one).
type limited struct {
	rc   io.ReadCloser
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, ErrTooLarge
	}
	return n, err
}

func (l *limited) Close() error { return l.rc.Close() }

// CheckURL reports whether s is an absolute http or https URL with a host
// and no user information: what herald will call. Whether its address is
// allowed is decided when it is dialed.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return ErrBadURL
	}
	if u.User != nil {
		return fmt.Errorf("%w: user information in the URL", ErrBadURL)
	}
	return nil
}

// refusePrivate is the dialer's Control: it runs for every address the
// dialer is about to connect to, after name resolution.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return ErrForbiddenAddress
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || Forbidden(ip) {
		return ErrForbiddenAddress
	}
	return nil
}

// special are ranges that are neither loopback nor private in Go's sense
// but reach no public host either.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("::ffff:0:0/96"),   // (mapped addresses are unmapped first)
	netip.MustParsePrefix("2002::/16"),       // 6to4 may embed any IPv4 address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo embeds an IPv4 address
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local (also cloud metadata)
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("::1/128"),         // loopback
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("ff00::/8"),        // multicast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
}

// Forbidden reports whether herald refuses to call ip by default.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range special {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// IsSelf reports whether rawURL points at base (herald itself): same
// scheme-less host and port, compared case-insensitively.
func IsSelf(rawURL, base string) bool {
	u, err1 := url.Parse(rawURL)
	b, err2 := url.Parse(base)
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(hostPort(u), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(strings.TrimSuffix(u.Hostname(), "."), port)
}

// NewRequest builds a request bound to ctx.
func NewRequest(ctx context.Context, method, rawURL string, body io.Reader) (*http.Request, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	return http.NewRequestWithContext(ctx, method, rawURL, body)
}
