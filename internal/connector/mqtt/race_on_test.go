//go:build race

package mqtt

// raceDetector reports a -race build.
const raceDetector = true
