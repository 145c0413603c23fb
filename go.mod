module github.com/ircsock/ircsock

go 1.26.8
