/** placeholder until the module's first class lands. */
package dev.lockstep.agent;
