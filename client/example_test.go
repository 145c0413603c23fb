package client_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/internal/ircd"
	"github.com/ircsock/ircsock/ircmsg"
)

// runBot is the README's bot: it connects, logs in with SASL when the
// server offers it, joins #bots, answers "!ping" with "pong", and comes
// back after any loss until ctx ends.
func runBot(ctx context.Context, addr, password string) error {
	bot, err := client.New(client.Config{
		Addr:      addr,
		Nick:      "pingbot",
		AltNicks:  []string{"pingbot_"},
		SASL:      client.SASL{Username: "pingbot", Password: password},
		Reconnect: client.Reconnect{MaxDelay: time.Minute},
	})
	if err != nil {
		return err
	}
	bot.HandleFunc("PRIVMSG", func(c *client.Client, m *ircmsg.Message) {
		if len(m.Params) != 2 || m.Params[1] != "!ping" {
			return
		}
		to := m.Params[0] // the channel, or our own nick for a private message
		if c.Fold(to) == c.Fold(c.Nick()) {
			to, _, _ = ircmsg.SplitSource(m.Source)
		}
		_ = c.Privmsg(to, "pong")
	})
	// Sent once registered, and again after every reconnect.
	if err := bot.Join("#bots"); err != nil {
		return err
	}
	return bot.Run(ctx)
}

// The README's bot, run against the project's own server (the one of
// "ircsock serve"), and a user who asks it for a pong.
func Example_bot() {
	srv, err := ircd.New(ircd.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	addr := srv.Addr().String()

	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	botDone := make(chan error, 1)
	go func() { botDone <- runBot(botCtx, addr, "secret") }()

	// The user asks once it sees the bot in #bots (on the bot's JOIN, or
	// in the names list if the bot was there first).
	user, err := client.New(client.Config{Addr: addr, Nick: "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var ask sync.Once
	askIfThere := func(c *client.Client, _ *ircmsg.Message) {
		if _, ok := c.User("pingbot"); ok {
			ask.Do(func() { _ = c.Privmsg("#bots", "!ping") })
		}
	}
	user.HandleFunc("JOIN", askIfThere)
	user.HandleFunc("366", askIfThere) // RPL_ENDOFNAMES
	answers := make(chan string, 1)
	user.HandleFunc("PRIVMSG", func(_ *client.Client, m *ircmsg.Message) {
		if nick, _, _ := ircmsg.SplitSource(m.Source); nick == "pingbot" {
			answers <- m.Params[1]
		}
	})
	_ = user.Join("#bots")
	userCtx, stopUser := context.WithCancel(ctx)
	userDone := make(chan error, 1)
	go func() { userDone <- user.Run(userCtx) }()

	select {
	case a := <-answers:
		fmt.Println("pingbot answered:", a)
	case <-ctx.Done():
		fmt.Println("no answer:", ctx.Err())
	}
	stopUser()
	stopBot()
	fmt.Println("user:", <-userDone)
	fmt.Println("bot:", <-botDone)
	stopSrv()
	<-srvDone
	// Output:
	// pingbot answered: pong
	// user: context canceled
	// bot: context canceled
}

// A client registers with the project's own server and reports its nick
// and the server's case mapping.
func Example() {
	srv, err := ircd.New(ircd.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()

	registered := make(chan struct{})
	c, err := client.New(client.Config{
		Addr: srv.Addr().String(),
		Nick: "gopher",
		OnEvent: func(ev client.Event) {
			if ev.Kind == client.EventRegistered {
				close(registered)
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// 005 follows 001: wait for the end of the MOTD to read ISUPPORT.
	motd := make(chan struct{}, 1)
	c.HandleFunc("422", func(*client.Client, *ircmsg.Message) { motd <- struct{}{} }) // ERR_NOMOTD
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	<-registered
	<-motd
	fmt.Println("registered as", c.Nick())
	fmt.Println("casemapping:", c.Casemap())
	stop()
	fmt.Println("Run:", <-done)
	stopSrv()
	<-srvDone
	// Output:
	// registered as gopher
	// casemapping: ascii
	// Run: context canceled
}
