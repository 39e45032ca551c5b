// @depthfold/testing: what the workspace's tests share. A devDependency only; nothing in a package's src imports it.
export { isCi, requirement, type SkippableTest, type SkipWarning } from './requirement.js';
