//go:build race

package fakeapi

// raceEnabled reports that the race detector is on.
const raceEnabled = true
