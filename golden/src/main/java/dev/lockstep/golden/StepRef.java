package dev.lockstep.golden;

/** A step named by its index and name (name may be empty). */
public record StepRef(int index, String name) {}
