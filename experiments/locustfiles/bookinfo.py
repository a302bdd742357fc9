"""Bookinfo traffic as a Locust user class would describe it: a mix of anonymous readers,
the logged-in reviewer jason, and API clients. It runs unchanged under `locust -f` against
any Bookinfo ingress, and under chaoskit with
`load.run(locustfile="experiments/locustfiles/bookinfo.py", user="Reader", users=8)`.

The paths are Bookinfo's productpage routes (istio/istio samples/bookinfo/src/productpage/
productpage.py): /productpage, /login, /logout and /api/v1/products/<id>[/reviews|/ratings].
"""

from __future__ import annotations

from locust import FastHttpUser, between, task


class Reader(FastHttpUser):
    """An anonymous reader: mostly the product page, now and then the product list API."""

    wait_time = between(0.05, 0.15)

    @task(5)
    def product_page(self):
        self.client.get("/productpage", name="productpage")

    @task(1)
    def products_api(self):
        self.client.get("/api/v1/products", name="api: products")


class Jason(FastHttpUser):
    """The reviewer jason: logs in once, then reads the product page, whose reviews come
    from the version his routing rules pick."""

    wait_time = between(0.05, 0.15)

    def on_start(self):
        with self.client.post(
            "/login",
            data={"username": "jason", "passwd": "password"},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as reply:
            if reply.status_code not in (200, 302):
                reply.failure(f"login as jason answered {reply.status_code}")

    @task
    def product_page(self):
        self.client.get("/productpage", name="productpage (jason)")


class ApiClient(FastHttpUser):
    """A client of the reviews and ratings APIs. A reply without the product's reviews is
    a failure even with status 200 (catch_response, as Locust users write it)."""

    wait_time = between(0.05, 0.15)

    @task(3)
    def reviews(self):
        with self.client.get(
            "/api/v1/products/0/reviews", name="api: reviews", catch_response=True
        ) as reply:
            if reply.status_code == 200 and b"reviews" not in (reply.content or b""):
                reply.failure("no reviews in the reply")

    @task(1)
    def ratings(self):
        self.client.get("/api/v1/products/0/ratings", name="api: ratings")
