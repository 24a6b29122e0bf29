package classifier

import "iter"

// keyFilter is a Bloom filter over the typo lookup's keys (the vocabulary
// and its deletions): a word it says no to is in neither map, so the typo
// lookup, which tries a word with each letter left out, skips the two map
// look-ups for most of them. It never says no to a key it holds, so the
// lookup finds what it found without it.
type keyFilter struct {
	bits []uint64
	mask uint64 // len(bits)*64 - 1
}

// keyHashMul is the polynomial hash's multiplier: a word's hash is
// Σ w[j]·keyHashMul^(len-1-j), mod 2^64, so the hash of the word with one
// letter left out comes from its prefix's and suffix's hashes.
const keyHashMul = 0x100000001b3

// keyHash is the polynomial hash of s.
func keyHash[S ~string | ~[]byte](s S) uint64 {
	var h uint64
	for i := range len(s) {
		h = h*keyHashMul + uint64(s[i])
	}
	return h
}

// newKeyFilter holds every key of keys, n of them in all, at about 16
// bits a key.
func newKeyFilter(n int, keys ...iter.Seq[string]) keyFilter {
	size := uint64(64)
	for size < uint64(16*n) {
		size <<= 1
	}
	f := keyFilter{bits: make([]uint64, size/64), mask: size - 1}
	for _, seq := range keys {
		for k := range seq {
			f.add(keyHash(k))
		}
	}
	return f
}

// probes are the filter's two bit positions for hash h (mixed, so that
// words alike in their last letters spread).
func (f keyFilter) probes(h uint64) (uint64, uint64) {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h & f.mask, (h >> 32) & f.mask
}

func (f keyFilter) add(h uint64) {
	a, b := f.probes(h)
	f.bits[a/64] |= 1 << (a % 64)
	f.bits[b/64] |= 1 << (b % 64)
}

// mayHold reports whether a key with hash h may be in the maps: false
// means it is in none. A filter never built holds everything.
func (f keyFilter) mayHold(h uint64) bool {
	if f.bits == nil {
		return true
	}
	a, b := f.probes(h)
	return f.bits[a/64]&(1<<(a%64)) != 0 && f.bits[b/64]&(1<<(b%64)) != 0
}

// deletionHashes sets out[i] to the hash of w with letter i left out, for
// each i, from the hashes of its prefixes and suffixes, and returns w's
// own hash; w is at most maxTypoLen long, out at least as long as w.
func deletionHashes(w []byte, out []uint64) uint64 {
	var pre [maxTypoLen + 1]uint64 // pre[i]: hash of w[:i]
	var pow [maxTypoLen + 1]uint64 // pow[k]: keyHashMul^k
	pow[0] = 1
	for i, b := range w {
		pre[i+1] = pre[i]*keyHashMul + uint64(b)
		pow[i+1] = pow[i] * keyHashMul
	}
	var suf uint64 // hash of w[i+1:]
	for i := len(w) - 1; i >= 0; i-- {
		out[i] = pre[i]*pow[len(w)-1-i] + suf
		suf += uint64(w[i]) * pow[len(w)-1-i]
	}
	return pre[len(w)]
}
