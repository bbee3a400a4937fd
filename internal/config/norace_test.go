//go:build !race

package config

// raceOn: the race detector makes more allocations (TestParseManyRulesCost).
const raceOn = false
