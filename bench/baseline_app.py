"""The baselines Samverka is measured against, served with the same gunicorn settings.

GET /  -> hello world. POST /insert -> one row inserted into the same database, nothing else.
"""

import os

from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, insert

engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
metadata = MetaData()
rows = Table(
    "bench_baseline", metadata, Column("id", Integer, primary_key=True), Column("body", String(200))
)
metadata.create_all(engine)
if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _same_pragmas_as_the_app(dbapi_connection, _record):
        # The app commits with WAL and synchronous=NORMAL; the baseline must do the same.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, world!"


@app.post("/insert")
def insert_row():
    with engine.begin() as connection:
        connection.execute(insert(rows).values(body="x" * 100))
    return "", 201
