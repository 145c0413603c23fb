//go:build !linux

package sock

// canPark is false where there is no epoll: [Wheel.Start] runs the read
// loop on a goroutine of its own for as long as the wheel lives.
const canPark = false

// poller is never created where canPark is false.
type poller struct{}

func (w *Wheel) register() bool { return false }
func (w *Wheel) unregister()    {}
func (w *Wheel) arm() error     { panic("sock: parking is linux-only") }
