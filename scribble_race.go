//go:build race

package ircsock

// scribbleReleased makes Release overwrite the line it hands back (see
// scribble): on in builds with the race detector, which are for tests.
const scribbleReleased = true
