package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/eventbridge-dev/eventbridge/pkg/client"
)

// Create a target and a rule, or replace them, and read the rule's state.
func Example() {
	ctx := context.Background()
	c, err := client.New("http://127.0.0.1:8080", client.WithToken(os.Getenv("EVENTBRIDGE_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = c.Put(ctx, client.KindTarget, "chat", map[string]any{
		"type": "http", "url": "https://chat.example/hook", "mode": "structured",
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	_, created, err := c.Put(ctx, client.KindRule, "big-orders", map[string]any{
		"filter":  map[string]any{"sql": "type = 'com.example.order.created'"},
		"targets": []string{"chat"},
	}, nil)
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		for _, fe := range apiErr.Errors {
			fmt.Println(fe.Field, fe.Reason)
		}
		return
	}
	rule, err := c.Get(ctx, client.KindRule, "big-orders")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(created, rule.Status.State)
}

// Iterate over every rule with a label, page after page.
func ExampleClient_All() {
	c, _ := client.New("http://127.0.0.1:8080")
	for r, err := range c.All(context.Background(), client.KindRule, &client.ListOptions{Labels: []string{"team=shop"}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Name, r.Revision)
	}
}

// Redrive a rule's dead letters of one type and wait for the end.
func ExampleClient_Wait() {
	ctx := context.Background()
	c, _ := client.New("http://127.0.0.1:8080")
	op, err := c.Redrive(ctx, "big-orders", &client.DeadLetterFilter{Type: "com.example.order.created"})
	if err != nil {
		log.Fatal(err)
	}
	op, err = c.Wait(ctx, op, &client.WaitOptions{
		Interval: time.Second,
		Progress: func(o *client.Operation) { fmt.Println(o.Progress["done"], "of", o.Progress["matched"]) },
	})
	if errors.Is(err, client.ErrOperationFailed) {
		log.Fatal(op.Error)
	}
}

// Print live events until Ctrl-C.
func ExampleClient_Stream() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, _ := client.New("http://127.0.0.1:8080")
	err := c.Stream(ctx, &client.StreamQuery{Type: "com.example.order.created"}, func(ev map[string]any) error {
		fmt.Println(ev["id"], ev["data"])
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}
