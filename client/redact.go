package client

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// redacted replaces a secret in printed and logged output. An empty
// secret stays empty, so the output still shows whether one is set.
const redacted = "***"

func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// Config, SASL and Client format themselves through fmt's Formatter and
// slog's LogValuer rather than String, because a String method would
// only cover %v and %s: %+v, %#v, %x and %q of the struct itself would
// still reach the fields. Format prints a copy with the secrets replaced,
// under whatever verb and flags were asked for, so every verb gives the
// layout it would have given, minus the secrets.

// Format implements [fmt.Formatter]: the SASL settings with Password
// replaced by "***" (when set), under any verb.
func (s SASL) Format(f fmt.State, verb rune) {
	type plain SASL // the fields without this method
	p := plain(s)
	p.Password = redactSecret(p.Password)
	writeFormatted(f, verb, "client.plain", "client.SASL", p)
}

// LogValue implements [slog.LogValuer]: the settings without the
// password (only whether one is set).
func (s SASL) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("mechanisms", s.Mechanisms),
		slog.String("username", s.Username),
		slog.String("password", redactSecret(s.Password)),
		slog.Bool("required", s.Required),
	)
}

// MarshalJSON implements [json.Marshaler] for logs (slog's JSON handler
// marshals values nested in maps and slices): the fields with Password
// replaced by "***" (when set). The result cannot log in; it is not
// meant to be read back.
func (s SASL) MarshalJSON() ([]byte, error) {
	type plain SASL
	p := plain(s)
	p.Password = redactSecret(p.Password)
	return json.Marshal(p)
}

// Format implements [fmt.Formatter]: the configuration with Password and
// SASL.Password replaced by "***" (when set), under any verb. TLS, like
// every pointer inside a struct, prints as its address, never as the
// certificates and private keys it holds.
func (c Config) Format(f fmt.State, verb rune) {
	type plain Config // the fields without this method
	p := plain(c)
	p.Password = redactSecret(p.Password)
	// SASL keeps its own Format, which redacts its password.
	writeFormatted(f, verb, "client.plain", "client.Config", p)
}

// LogValue implements [slog.LogValuer]: the connection and identity
// settings, without the passwords (only whether they are set) and with
// TLS reduced to its server name and the number of client certificates.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("addr", c.Addr),
		slog.String("nick", c.Nick),
		slog.Any("alt_nicks", c.AltNicks),
		slog.String("user", c.User),
		slog.String("real_name", c.RealName),
		slog.String("password", redactSecret(c.Password)),
		slog.Any("caps", c.Caps),
		slog.Any("sasl", c.SASL),
	}
	if c.TLS != nil {
		attrs = append(attrs, slog.Group("tls",
			slog.String("server_name", c.TLS.ServerName),
			slog.Int("certificates", len(c.TLS.Certificates)),
		))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON implements [json.Marshaler] for logs: the settings that
// are data (not the funcs, the Dialer or TLS, of which only the server
// name and the number of client certificates are kept), with the
// passwords replaced by "***" (when set). It is not meant to be read
// back.
func (c Config) MarshalJSON() ([]byte, error) {
	type tlsView struct {
		ServerName   string
		Certificates int
	}
	v := struct {
		Addr            string
		Password        string
		Nick            string
		AltNicks        []string
		User, RealName  string
		Caps            []string
		SASL            SASL
		Flood           Flood
		Reconnect       Reconnect
		CTCP            CTCP
		TLS             *tlsView `json:",omitempty"`
		ConnectTimeout  time.Duration
		RegisterTimeout time.Duration
		PingInterval    time.Duration
		PingTimeout     time.Duration
		QuitMessage     string
	}{
		Addr: c.Addr, Password: redactSecret(c.Password), Nick: c.Nick, AltNicks: c.AltNicks,
		User: c.User, RealName: c.RealName, Caps: c.Caps, SASL: c.SASL, Flood: c.Flood,
		Reconnect: c.Reconnect, CTCP: c.CTCP, ConnectTimeout: c.ConnectTimeout,
		RegisterTimeout: c.RegisterTimeout, PingInterval: c.PingInterval,
		PingTimeout: c.PingTimeout, QuitMessage: c.QuitMessage,
	}
	if c.TLS != nil {
		v.TLS = &tlsView{ServerName: c.TLS.ServerName, Certificates: len(c.TLS.Certificates)}
	}
	return json.Marshal(v)
}

// Format implements [fmt.Formatter]: a client prints as its
// configuration (see [Config.Format]); its queues, state and session,
// which hold the credentials while logging in, are never printed.
func (c *Client) Format(f fmt.State, verb rune) {
	if c == nil {
		fmt.Fprint(f, "<nil>")
		return
	}
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "&client.Client{cfg:%#v}", c.cfg)
		return
	}
	fmt.Fprint(f, "client.Client{")
	c.cfg.Format(f, verb)
	fmt.Fprint(f, "}")
}

// LogValue implements [slog.LogValuer]: the client's configuration
// without secrets (see [Config.LogValue]).
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	return c.cfg.LogValue()
}

// writeFormatted prints v under the caller's verb and flags. For %#v,
// which names v's type, the name of the method-less copy is replaced by
// the real one.
func writeFormatted(f fmt.State, verb rune, copyName, realName string, v any) {
	out := fmt.Sprintf(fmt.FormatString(f, verb), v)
	if verb == 'v' && f.Flag('#') {
		out = strings.Replace(out, copyName, realName, 1)
	}
	_, _ = f.Write([]byte(out))
}
