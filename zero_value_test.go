package ircsock_test

import (
	"reflect"
	"testing"

	"github.com/ircsock/ircsock"
)

// TestZeroEventsAreSafe calls every method without arguments of every
// event's zero value, and of the *Conn, *Listener and *Connector it holds
// (all nil), and checks that none panics and each reports a zero value.
func TestZeroEventsAreSafe(t *testing.T) {
	events := []ircsock.Event{
		ircsock.ListenerCreated{}, ircsock.ListenerOpen{}, ircsock.ListenerFailure{},
		ircsock.ListenerRemoved{}, ircsock.ConnectorOpen{}, ircsock.ConnectorFailure{},
		ircsock.Input{}, ircsock.InputError{}, ircsock.Disconnect{},
		ircsock.ConnectionIdle{}, ircsock.Compressed{},
	}
	for _, ev := range events {
		v := reflect.ValueOf(ev)
		t.Run(v.Type().Name(), func(t *testing.T) {
			callAll(t, v)
			for i := range v.NumField() {
				if f := v.Field(i); f.Kind() == reflect.Pointer && v.Type().Field(i).IsExported() {
					callAll(t, f)
				}
			}
		})
	}
	var in ircsock.Input
	if in.Conn() != nil || in.Msg() != nil {
		t.Errorf("zero Input: Conn() = %v, Msg() = %v, want nil, nil", in.Conn(), in.Msg())
	}
	var c *ircsock.Conn
	if c.ID() != 0 || c.Peer().IsValid() || c.TLS() != nil || c.CertFP() != "" || !c.Disconnecting() {
		t.Errorf("nil Conn: ID %d, Peer %v, TLS %v, CertFP %q, Disconnecting %v; want 0, invalid, nil, \"\", true",
			c.ID(), c.Peer(), c.TLS(), c.CertFP(), c.Disconnecting())
	}
}

// callAll calls every exported method of v that takes no argument.
func callAll(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumMethod() {
		m := v.Method(i)
		if m.Type().NumIn() != 0 {
			continue
		}
		name := v.Type().Method(i).Name
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s.%s() on a zero value panicked: %v", v.Type(), name, r)
				}
			}()
			out := m.Call(nil)
			for _, o := range out {
				if !o.IsZero() && o.Kind() != reflect.Bool {
					t.Errorf("%s.%s() on a zero value = %v, want the zero value", v.Type(), name, o)
				}
			}
		}()
	}
}
