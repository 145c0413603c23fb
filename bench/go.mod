module github.com/ircsock/ircsock/bench

go 1.25

require github.com/ircsock/ircsock v0.0.0

require (
	github.com/ergochat/irc-go v0.5.0
	github.com/klauspost/compress v1.20.3 // indirect
)

replace github.com/ircsock/ircsock => ../
