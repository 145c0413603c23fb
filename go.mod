module github.com/ircsock/ircsock

go 1.25

require (
	github.com/coder/websocket v1.8.15
	github.com/google/go-cmp v0.7.0
	github.com/klauspost/compress v1.20.3
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.50.0
	golang.org/x/sync v0.19.0
	golang.org/x/text v0.34.0
	golang.org/x/time v0.14.0
	gopkg.in/yaml.v3 v3.0.1
)

require github.com/kr/text v0.2.0 // indirect
