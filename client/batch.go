package client

import (
	"context"
	"errors"
	"strconv"

	"github.com/ircsock/ircsock/ircmsg"
)

// A Batch is an IRCv3 batch: the messages between "BATCH +ref type" and
// "BATCH -ref" (netsplits, chathistory, labeled responses).
type Batch struct {
	Ref      string
	Type     string
	Params   []string
	Tags     []ircmsg.Tag // of the opening BATCH line (label, ...)
	Messages []*ircmsg.Message
}

// maxBatchMessages bounds one open batch, so a server that never closes
// one cannot grow the client without end; past it the batch is dropped
// from grouping (its messages were still delivered one by one).
const maxBatchMessages = 10000

// HandleBatch registers f for batches of type typ ("netsplit", ...; "*"
// for all). It runs on the reading goroutine when the batch ends. Each
// message of a batch also reaches the per-command handlers as it
// arrives.
func (c *Client) HandleBatch(typ string, f func(c *Client, b *Batch)) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	c.batchHs[typ] = append(c.batchHs[typ], f)
}

func (s *session) handleBatch(m *ircmsg.Message) {
	if len(m.Params) < 1 || len(m.Params[0]) < 2 {
		return
	}
	ref := m.Params[0][1:]
	switch m.Params[0][0] {
	case '+':
		b := &Batch{Ref: ref, Tags: m.Tags}
		if len(m.Params) > 1 {
			b.Type = m.Params[1]
			b.Params = m.Params[2:]
		}
		s.batches[ref] = b
	case '-':
		b := s.batches[ref]
		if b == nil {
			return
		}
		delete(s.batches, ref)
		c := s.c
		c.hmu.RLock()
		hs := append(append([]func(*Client, *Batch){}, c.batchHs[b.Type]...), c.batchHs["*"]...)
		c.hmu.RUnlock()
		for _, f := range hs {
			f(c, b)
		}
		if label, ok := tagValue(b.Tags, "label"); ok && b.Type == "labeled-response" {
			c.finishLabel(label, b.Messages)
		}
	}
}

func tagValue(tags []ircmsg.Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

func (s *session) collectBatch(m *ircmsg.Message) {
	ref, ok := m.Tag("batch")
	if !ok {
		return
	}
	if b := s.batches[ref]; b != nil {
		if len(b.Messages) >= maxBatchMessages {
			delete(s.batches, ref)
			return
		}
		b.Messages = append(b.Messages, m)
	}
}

// pending is a labeled request waiting for its response.
type pending struct {
	ch chan labelResult
}

type labelResult struct {
	msgs []*ircmsg.Message
	err  error
}

func (p *pending) fail(err error) {
	select {
	case p.ch <- labelResult{err: err}:
	default:
	}
}

// ErrNoLabeledResponse is returned by [Client.Request] when the
// labeled-response capability is not enabled (request it in
// Config.Caps).
var ErrNoLabeledResponse = errors.New("client: labeled-response not enabled")

// Request sends m with an IRCv3 label and waits for the server's
// response: the messages of its labeled-response batch, the one labeled
// reply, or none (an ACK). It fails when ctx ends, the link is lost
// first, or labeled-response is not enabled. It waits for the reading
// goroutine, so a handler must not call it (it would wait for itself);
// call it from another goroutine.
func (c *Client) Request(ctx context.Context, m *ircmsg.Message) ([]*ircmsg.Message, error) {
	if !c.HasCap("labeled-response") {
		return nil, ErrNoLabeledResponse
	}
	c.qmu.Lock()
	c.labelSeq++
	label := "ircsock" + strconv.FormatUint(c.labelSeq, 10)
	p := &pending{ch: make(chan labelResult, 1)}
	if c.labels != nil {
		c.labels[label] = p
	}
	c.qmu.Unlock()
	defer func() {
		c.qmu.Lock()
		delete(c.labels, label)
		c.qmu.Unlock()
	}()
	mm := *m
	mm.Tags = append(append([]ircmsg.Tag(nil), m.Tags...), ircmsg.Tag{Key: "label", Value: label})
	if err := c.Send(&mm); err != nil {
		return nil, err
	}
	select {
	case r := <-p.ch:
		return r.msgs, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Client) finishLabel(label string, msgs []*ircmsg.Message) {
	c.qmu.Lock()
	p := c.labels[label]
	delete(c.labels, label)
	c.qmu.Unlock()
	if p != nil {
		select {
		case p.ch <- labelResult{msgs: msgs}:
		default:
		}
	}
}

// matchLabel completes a request answered by one labeled message (or an
// ACK); a labeled BATCH is completed when it ends.
func (c *Client) matchLabel(m *ircmsg.Message) {
	label, ok := m.Tag("label")
	if !ok || m.Command == "BATCH" {
		return
	}
	if m.Command == "ACK" {
		c.finishLabel(label, nil)
		return
	}
	c.finishLabel(label, []*ircmsg.Message{m})
}
