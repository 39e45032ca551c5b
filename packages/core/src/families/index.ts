// The families that come with depthfold; importing this module registers them (resnet-cifar first: the default).
import './resnet-cifar.js';
import './resnet-imagenet.js';

export { CIFAR_SHORTCUTS, CIFAR_STAGE_WIDTHS } from './resnet-cifar.js';
export { IMAGENET_DEPTHS, IMAGENET_STAGE_PLANES, IMAGENET_STEMS } from './resnet-imagenet.js';
