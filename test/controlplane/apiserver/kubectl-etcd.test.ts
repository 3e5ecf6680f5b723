// Real kubectl against `deckhand control-plane` on a private etcd (Debian's etcd-server).
import { defineKubectlSuite } from "./kubectl-suite.ts";

defineKubectlSuite("etcd");
