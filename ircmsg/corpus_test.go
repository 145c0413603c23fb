package ircmsg_test

import "github.com/ircsock/ircsock/internal/corpus"

// The benchmark corpus. The generator lives in internal/corpus so that the
// filter and sock benchmarks measure the same traffic; its package doc
// gives the mix.
const (
	corpusLines = 4096
	corpusSeed  = 42
)

// benchCorpus returns the corpus and its total size in bytes without CR LF.
func benchCorpus() (lines [][]byte, size int64) {
	lines = corpus.Lines(corpusLines, corpusSeed)
	for _, l := range lines {
		size += int64(len(l))
	}
	return lines, size
}
