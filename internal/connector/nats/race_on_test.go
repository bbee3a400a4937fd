//go:build race

package nats

// raceDetector reports a -race build.
const raceDetector = true
