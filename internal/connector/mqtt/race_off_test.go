//go:build !race

package mqtt

const raceDetector = false
