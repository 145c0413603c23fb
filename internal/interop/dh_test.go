package interop

import (
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
)

// ffdhe2048 returns the RFC 7919 ffdhe2048 group, computed from the RFC's
// definition rather than copied:
//
//	p = 2^2048 - 2^1984 + (floor(2^1918 * e) + 560316) * 2^64 - 1,  g = 2
//
// Given to ngircd as its DHFile, it spares ngircd generating 2048-bit DH
// parameters at every start, which took from 1 to 6 seconds here.
var ffdhe2048 = sync.OnceValues(computeFFDHE2048)

func computeFFDHE2048() (p, g *big.Int) {
	// e = sum 1/k!, with enough precision for 1918 bits after the point.
	const prec = 2200
	e := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := int64(1); k < 400; k++ {
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(k))
		e.Add(e, term)
	}
	scaled := new(big.Float).SetPrec(prec).SetMantExp(e, 1918)
	fl, _ := scaled.Int(nil) // truncation is floor: e > 0
	fl.Add(fl, big.NewInt(560316))
	fl.Lsh(fl, 64)
	p = new(big.Int).Lsh(big.NewInt(1), 2048)
	p.Sub(p, new(big.Int).Lsh(big.NewInt(1), 1984))
	p.Add(p, fl)
	p.Sub(p, big.NewInt(1))
	return p, big.NewInt(2)
}

// writeDHParams writes the ffdhe2048 group as PKCS #3 DH PARAMETERS PEM.
func writeDHParams(t testing.TB, path string) {
	t.Helper()
	p, g := ffdhe2048()
	der, err := asn1.Marshal(struct{ P, G *big.Int }{p, g})
	if err != nil {
		t.Fatalf("marshal DH parameters: %v", err)
	}
	writePEM(t, path, "DH PARAMETERS", der)
}

// TestFFDHE2048 checks the computed group against properties RFC 7919
// states: 2048 bits, the top and bottom 64 bits all ones, and p a safe
// prime.
func TestFFDHE2048(t *testing.T) {
	p, _ := ffdhe2048()
	if got := p.BitLen(); got != 2048 {
		t.Fatalf("p has %d bits, want 2048", got)
	}
	ones := new(big.Int).SetUint64(^uint64(0))
	if got := new(big.Int).Rsh(p, 2048-64); got.Cmp(ones) != 0 {
		t.Errorf("top 64 bits of p = %x, want all ones", got)
	}
	if got := new(big.Int).And(p, ones); got.Cmp(ones) != 0 {
		t.Errorf("bottom 64 bits of p = %x, want all ones", got)
	}
	q := new(big.Int).Rsh(p, 1)
	if !p.ProbablyPrime(0) || !q.ProbablyPrime(0) {
		t.Errorf("p = %x is not a safe prime", p)
	}
}
