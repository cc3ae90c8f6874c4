/** mTLS credentials, certificate identities and roles shared by agent, collector and CLI. */
package dev.lockstep.security;
