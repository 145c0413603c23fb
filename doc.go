// Package ircsock speaks IRC over sockets: the POEx::IRC::Backend API in
// Go.
//
// A [Backend] (spawn) owns listeners ([Backend.CreateListener]),
// connectors ([Backend.CreateConnector]) and connections ([Conn]) and
// delivers every [Event] in order on one channel ([Backend.Events]) to one
// controller. Per connection the order is: [ListenerOpen] or
// [ConnectorOpen] first, then [Input] and [InputError] in wire order,
// [ConnectionIdle] and [Compressed] as they happen, and exactly one
// [Disconnect] last.
//
// Messages are [github.com/ircsock/ircsock/ircmsg.Message] values:
// [Backend.Send] formats one once and queues it to any number of
// connections. [Backend.Disconnect] closes after the queue is written,
// [Backend.DisconnectNow] at once. Compressed links switch exactly:
// [Backend.SetCompressedLink] at the current point of the output queue,
// [Backend.CompressInputAfter] right after a given input line.
// [Backend.Shutdown] drains and [Backend.Close] stops at once; neither
// leaves a goroutine behind.
//
// The socket work is done by package
// [github.com/ircsock/ircsock/sock] (Wheel, Listener, Dial) and the
// framing and compression by [github.com/ircsock/ircsock/filter] (Line,
// Zlib, Stack).
package ircsock
