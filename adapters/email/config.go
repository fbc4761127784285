package email

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The environment variables that configure the e-mail destination.
const (
	EnvURL  = "HELPDESK_SMTP_URL"
	EnvFrom = "HELPDESK_EMAIL_FROM"
	EnvTo   = "HELPDESK_EMAIL_TO"
)

// Default submission ports: 587 (submission, STARTTLS) for smtp://, 465
// (submissions, implicit TLS) for smtps://. Port 25 is for relaying
// between servers and often blocked for clients.
const (
	defaultPort     = "587"
	defaultTLSPort  = "465"
	defaultTimeout  = 20 * time.Second
	urlShape        = "smtp[s]://[user[:password]@]host[:port]"
	allThreeSetText = EnvURL + ", " + EnvFrom + " and " + EnvTo + " go together"
)

// Config configures the e-mail destination; see ParseConfig.
type Config struct {
	// URL is the SMTP server: smtp://[user[:password]@]host[:port] (STARTTLS
	// when offered) or smtps://… (implicit TLS). It holds the password:
	// print it only through Config's String or LogValue.
	URL string
	// From is the one sender address, possibly with a display name.
	From string
	// To are the helpdesk's addresses.
	To []string
	// Timeout bounds one send, connection included (default 20s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// String describes the configuration without the password.
func (c Config) String() string {
	return fmt.Sprintf("smtp %s from %s to %s", redactURL(c.URL), c.From, strings.Join(c.To, ", "))
}

// LogValue logs the configuration without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("from", c.From),
		slog.Int("recipients", len(c.To)),
	)
}

// redactURL hides the password of an SMTP URL; an unparsable one is hidden
// whole, since its password cannot be told apart.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// Enabled reports whether the e-mail destination is configured: all three
// variables set (true), or none (false). Some but not all is an error that
// names the missing ones, so a half-done configuration is not silently off.
func Enabled(rawURL, from, to string) (bool, error) {
	vars := []struct{ name, value string }{{EnvURL, rawURL}, {EnvFrom, from}, {EnvTo, to}}
	var missing []string
	for _, v := range vars {
		if strings.TrimSpace(v.value) == "" {
			missing = append(missing, v.name)
		}
	}
	switch len(missing) {
	case 0:
		return true, nil
	case len(vars):
		return false, nil
	case 1:
		return false, fmt.Errorf("%s is not set (%s)", missing[0], allThreeSetText)
	}
	return false, fmt.Errorf("%s are not set (%s)", strings.Join(missing, " and "), allThreeSetText)
}

// ParseConfig reads HELPDESK_SMTP_URL, HELPDESK_EMAIL_FROM and
// HELPDESK_EMAIL_TO (comma-separated). Errors name the variable and never
// contain the password. Timeout and Logger are left for the caller.
func ParseConfig(rawURL, from, to string) (Config, error) {
	ok, err := Enabled(rawURL, from, to)
	if err != nil {
		return Config{}, err
	}
	if !ok {
		return Config{}, fmt.Errorf("%s, %s and %s are not set", EnvURL, EnvFrom, EnvTo)
	}
	rawURL = strings.TrimSpace(rawURL)
	if _, err := parseServer(rawURL); err != nil {
		return Config{}, err
	}
	sender, err := parseFrom(from)
	if err != nil {
		return Config{}, err
	}
	rcpts, err := parseTo(to)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{URL: rawURL, From: sender.String()}
	for _, a := range rcpts {
		cfg.To = append(cfg.To, a.String())
	}
	return cfg, nil
}

// server is a parsed HELPDESK_SMTP_URL.
type server struct {
	host, port  string
	implicitTLS bool
	user, pass  string
}

func (s server) addr() string         { return net.JoinHostPort(s.host, s.port) }
func (s server) hasCredentials() bool { return s.user != "" }

// parseServer reads an SMTP URL. Its errors never quote the URL: any part
// of it may be the password.
func parseServer(raw string) (server, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return server{}, invalidURL(raw, err)
	}
	var s server
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		s.port = defaultPort
	case "smtps":
		s.implicitTLS, s.port = true, defaultTLSPort
	default:
		return server{}, fmt.Errorf("%s: scheme must be smtp or smtps (%s)", EnvURL, urlShape)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return server{}, fmt.Errorf("%s: no host (%s)", EnvURL, urlShape)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return server{}, fmt.Errorf("%s: unexpected path, query or fragment (%s)", EnvURL, urlShape)
	}
	s.host = u.Hostname()
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return server{}, fmt.Errorf("%s: port %q out of range", EnvURL, p)
		}
		s.port = p
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" && s.pass != "" {
			return server{}, fmt.Errorf("%s: a password needs a user name", EnvURL)
		}
	}
	return s, nil
}

// invalidURL explains a URL that does not parse. The parser's own message
// may quote the userinfo (an invalid %-escape in the password), so it is
// kept only when the URL has none.
func invalidURL(raw string, err error) error {
	var uerr *url.Error
	if strings.Contains(raw, "@") || !errors.As(err, &uerr) {
		return fmt.Errorf("%s: not a valid URL (%s; escape special characters of the user and password with %%XX)", EnvURL, urlShape)
	}
	return fmt.Errorf("%s: not a valid URL: %w", EnvURL, uerr.Err)
}

// parseFrom reads the one sender address.
func parseFrom(raw string) (*mail.Address, error) {
	raw = strings.TrimSpace(raw)
	a, err := mail.ParseAddress(raw)
	if err != nil {
		if list, lerr := mail.ParseAddressList(raw); lerr == nil && len(list) > 1 {
			return nil, fmt.Errorf("%s: one address expected, got %d", EnvFrom, len(list))
		}
		return nil, fmt.Errorf("%s: %q is not an e-mail address", EnvFrom, raw)
	}
	return a, nil
}

// parseTo reads the comma-separated helpdesk addresses. A list that does
// not parse whole is read item by item, to name the bad one (and to
// forgive empty items, as a trailing comma).
func parseTo(raw string) ([]*mail.Address, error) {
	if list, err := mail.ParseAddressList(raw); err == nil {
		return list, nil
	}
	var list []*mail.Address
	for item := range strings.SplitSeq(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		a, err := mail.ParseAddress(item)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an e-mail address", EnvTo, item)
		}
		list = append(list, a)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no e-mail address", EnvTo)
	}
	return list, nil
}

// domainOf returns the domain of an address, for Message-IDs and EHLO.
func domainOf(a *mail.Address) string {
	return a.Address[strings.LastIndex(a.Address, "@")+1:]
}
