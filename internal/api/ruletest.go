package api

import (
	"encoding/json"
	"net/http"

	"github.com/eventbridge-dev/eventbridge/internal/api/problem"
	"github.com/eventbridge-dev/eventbridge/internal/resource"
	"github.com/eventbridge-dev/eventbridge/internal/ruletest"
	"github.com/eventbridge-dev/eventbridge/internal/spec"
)

// RuleTestRequest is the body of POST /v1/rules:test. Rule is a rule name
// (a string) or a rule spec (an object).
type RuleTestRequest struct {
	Rule   json.RawMessage   `json:"rule"`
	Events []json.RawMessage `json:"events"`
}

// RuleTestResponse lists one result per event, in order.
type RuleTestResponse struct {
	Results []ruletest.Result `json:"results"`
}

func (a *API) testRule(w http.ResponseWriter, r *http.Request) {
	var req RuleTestRequest
	if p := decode(r, &req); p != nil {
		p.Write(w, r)
		return
	}
	if len(req.Rule) == 0 {
		problem.New(problem.InvalidRequest, "rule: required (a rule name or a rule spec)").
			WithErrors(problem.FieldError{Field: "rule", Reason: "required"}).Write(w, r)
		return
	}
	if len(req.Events) > 1000 {
		problem.New(problem.TooLarge, "at most 1000 events per request").Write(w, r)
		return
	}
	var rule *resource.Rule
	var name string
	if json.Unmarshal(req.Rule, &name) == nil {
		o, perr := a.load(r.Context(), resource.KindRule, name)
		if perr != nil {
			perr.Write(w, r)
			return
		}
		// The rule runs with its references as written: a test never
		// reads the bridge's environment, files or secrets, whose values
		// its results (readable with the read scope) would show.
		var err error
		if rule, err = resource.DecodeRuleRefs(o.Spec, "spec", spec.Refs{Verbatim: true}); err != nil {
			invalidResource(err).Write(w, r)
			return
		}
	} else {
		rule = &resource.Rule{}
		if err := json.Unmarshal(req.Rule, rule); err != nil {
			problem.New(problem.InvalidRequest, "rule: "+err.Error()).Write(w, r)
			return
		}
		name = "test"
		rule.Defaults()
		p := spec.NewProblems("rule")
		if len(rule.Targets) == 0 {
			rule.Targets = []string{"-"} // a rule under test needs no target
		}
		rule.Validate(p)
		if err := p.Err(); err != nil {
			invalidResource(err).Write(w, r)
			return
		}
	}
	c, err := ruletest.Compile(name, rule)
	if err != nil {
		problem.New(problem.InvalidResource, err.Error()).Write(w, r)
		return
	}
	resp := RuleTestResponse{Results: make([]ruletest.Result, len(req.Events))}
	for i, ev := range req.Events {
		resp.Results[i] = c.Run(r.Context(), ev)
	}
	writeJSON(w, http.StatusOK, resp)
}
