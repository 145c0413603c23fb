// Package irc is the IRC toolkit above single messages, the Go counterpart
// of Perl's IRC::Toolkit: what a bot, a bridge, a bouncer or a server needs
// beyond parsing one line, with no I/O of its own. It builds on ircmsg,
// the standard library and, for PRECIS case mapping, golang.org/x/text.
//
//	var is irc.ISupport
//	_ = is.Add([]string{"CASEMAPPING=rfc1459", "CHANMODES=beI,k,l,imnpst", "PREFIX=(ov)@+"})
//	cm, _ := is.Casemap()
//	fmt.Println(cm.Fold("Nick[Away]"), cm.Equal("[tag]Bob", "{TAG}bob")) // nick{away} true
//
//	fmt.Println(irc.MatchMask("*!*@*.example.net", "Troll!~t@host.EXAMPLE.net", cm)) // true
//
//	changes, _ := is.ChannelModes().Parse([]string{"+ov-k", "alice", "bob", "key"})
//	fmt.Println(changes) // [+o alice +v bob -k key]
//
//	fmt.Println(irc.StripFormatting("\x02bold\x02 and \x0304red\x03")) // bold and red
//
//	pieces, _ := irc.Splitter{Source: "me!u@host"}.Split("PRIVMSG", "#go", strings.Repeat("word ", 200))
//	fmt.Println(len(pieces), "pieces") // 3 pieces
//
// (This is the package's Example; each part has its own, such as
// ExampleMatchMask and ExampleSplitter.)
//
// The building blocks:
//
//   - Case mapping: a [Casemap] ([RFC1459], [StrictRFC1459], [ASCII],
//     [RFC7613]) folds
//     and compares nicks and channel names the way a server does;
//     [CasemapByName] reads the ISUPPORT CASEMAPPING value.
//   - ISUPPORT: an [ISupport] collects any number of 005 lines into typed
//     accessors ([ISupport.Prefix], [ISupport.ChanModes],
//     [ISupport.NickLen], ...), with the RFC 1459 defaults for what a server
//     leaves out; [ISupport.ValidNick] and [ISupport.ValidChannel] check
//     names against them.
//   - Masks: [MatchMask] and a compiled [Mask] match "nick!user@host"
//     globs ('*', '?', backslash escapes, CIDR hosts) under a casemap in
//     linear time; [NormalizeMask] completes partial masks as servers do;
//     [SplitMask] and [ValidHostname].
//   - Modes: [Modes.Parse] reads "+ov-k nick1 nick2 key" into
//     [ModeChange]s using CHANMODES and PREFIX ([ISupport.ChannelModes]);
//     [ModePacker] writes changes back in as few MODE lines as MODES and
//     the line length allow; [ParseUserModes] reads user modes.
//   - Formatting: [StripFormatting] removes bold, italics, underline,
//     strikethrough, monospace, reverse, reset and colours (\x03 palette,
//     \x04 RGB); [ParseFormatting] gives styled [Span]s for rendering
//     elsewhere (HTML, say); a [Builder] writes formatted text so that no
//     digit after a colour code is read as part of it.
//   - TS6: [ValidSID], [ValidUID] and a [UIDGenerator] for server links.
//   - Numerics: constants such as [RPL_WELCOME] and [ERR_NICKNAMEINUSE],
//     with [NumericName] and [NumericCode].
//   - CTCP: [ParseCTCP] and [ExtractCTCP] read a [CTCP] frame the way the
//     ircdocs CTCP document says; [CTCPRequest], [CTCPReply] and [Action]
//     build them; [LowQuote], [CTCPQuote] and [ParseCTCPOld] are the 1994
//     specification's quoting and interleaved frames.
//   - Splitting: a [Splitter] cuts a long PRIVMSG or NOTICE text into
//     pieces that fit a line once the server has prepended the sender's
//     source, on spaces and character boundaries, never inside a
//     formatting code or a CTCP frame.
//
// Errors: every error this package returns concerns one input only (one
// token, one mask, one mode string); nothing here holds a connection or
// state that an error could break.
//
// The one dependency beyond the standard library is golang.org/x/text,
// for [RFC7613]: PRECIS (RFC 8264/8265) needs Unicode width mapping, case
// mapping and normalisation tables that only x/text maintains for Go.
// Printable ASCII never reaches it.
package irc
