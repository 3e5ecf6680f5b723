// Real kubectl against `deckhand control-plane` on its default store, SQLite.
import { defineKubectlSuite } from "./kubectl-suite.ts";

defineKubectlSuite("sqlite");
