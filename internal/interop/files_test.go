package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// pollInterval is how often a client's own files are read while waiting
// for a line in them: the clients write plain files, which offer nothing
// to block on.
const pollInterval = 25 * time.Millisecond

// waitFileLine waits until a line of the file at path matches re and
// returns it; the file may not exist yet.
func waitFileLine(ctx context.Context, path string, re *regexp.Regexp) (string, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if re.MatchString(line) {
					return line, nil
				}
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no line matching %q in %s: %w (it holds %q)", re, path, ctx.Err(), tail(data, 600))
		case <-tick.C:
		}
	}
}

// tail is the end of data, for failure messages.
func tail(data []byte, n int) string {
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// writeFIFO writes line and a newline to the FIFO at path, which a client
// reads its commands from. Opening without blocking fails (ENXIO) while no
// reader has it open, so the open is retried until ctx ends.
func writeFIFO(ctx context.Context, path, line string) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			_, werr := f.WriteString(line + "\n")
			cerr := f.Close()
			return errors.Join(werr, cerr)
		}
		if !errors.Is(err, syscall.ENXIO) && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("write %q to %s: %w (last error: %v)", line, path, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
