"""A small shop's traffic for chaoskit's load tests (paths answered by the test server)."""

from __future__ import annotations

from locust import FastHttpUser, HttpUser, SequentialTaskSet, constant, task


class Shopper(FastHttpUser):
    wait_time = constant(0.01)

    @task(3)
    def browse(self):
        self.client.get("/items", name="browse")

    @task(1)
    def checkout(self):
        with self.client.get("/cart", name="checkout", catch_response=True) as reply:
            reply.failure("cart is empty")


class SlowShopper(HttpUser):
    wait_time = constant(0.01)

    @task
    def browse(self):
        self.client.get("/items", name="browse (requests)")


class Careless(FastHttpUser):
    wait_time = constant(0.01)

    @task
    def fall_over(self):
        self.client.get("/items", name="before the crash")
        raise RuntimeError("the task broke")


class CheckoutFlow(SequentialTaskSet):
    @task
    def cart(self):
        self.client.get("/cart", name="flow: cart")

    @task
    def pay(self):
        self.client.post("/pay", name="flow: pay")


class Buyer(FastHttpUser):
    wait_time = constant(0.01)
    tasks = [CheckoutFlow]  # noqa: RUF012 - Locust declares tasks as a class-level list


NOT_A_USER = 42
