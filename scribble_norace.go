//go:build !race

package ircsock

// scribbleReleased: off without the race detector (see scribble).
const scribbleReleased = false
