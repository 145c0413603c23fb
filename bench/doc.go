// Package bench measures ircsock's parser and read path against
// github.com/ergochat/irc-go's ircmsg.ParseLine, the reference the
// foundation issue's targets are set by, on the same corpus in the same
// process. It is a module of its own so that the reference never becomes a
// dependency of github.com/ircsock/ircsock; it has no API, only benchmarks
// in compare_test.go, whose comment gives the command.
//
// It reads the shared corpus from github.com/ircsock/ircsock/internal/corpus:
// Go decides who may import an internal package by import path, not by
// module, and this module's path lies under the main module's, so the
// benchmarks here measure exactly the traffic of ircmsg's and filter's own.
package bench
