/**
 * AWS ECR through an EventBridge API destination (the raw event, no input transformer). Only
 * `ECR Image Action` with `action-type: PUSH`, `result: SUCCESS` and an `image-tag` counts; deletes carry a
 * tag too, and scans, pull-through-cache and referrer events have other detail types.
 */
import type { ImagePushed } from '../domain/types.js';
import { parseJsonBody } from './field.js';
import { compact, imagePushed } from './push.js';
import type { WebhookRequest } from './request.js';

export function parseEcr(req: WebhookRequest): ImagePushed[] {
  const body = parseJsonBody(req.body);
  const detailType = body.get('detail-type').nonEmpty();
  if (detailType !== 'ECR Image Action') return [];
  const detail = body.get('detail');
  if (detail.get('action-type').nonEmpty() !== 'PUSH') return [];
  if (detail.get('result').nonEmpty() !== 'SUCCESS') return [];
  const tag = detail.get('image-tag');
  const tagValue = tag.optString();
  if (tagValue === undefined || tagValue === '') return [];
  const account = body.get('account');
  const region = body.get('region');
  const accountValue = account.nonEmpty();
  const regionValue = region.nonEmpty();
  if (!/^\d{12}$/.test(accountValue))
    throw account.fail(`expected a 12-digit AWS account id, got "${accountValue}"`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(regionValue))
    throw region.fail(`expected an AWS region, got "${regionValue}"`);
  const repository = detail.get('repository-name');
  const digest = detail.get('image-digest');
  return compact([
    imagePushed('ecr', {
      image: `${accountValue}.dkr.ecr.${regionValue}.amazonaws.com/${repository.nonEmpty()}`,
      imageField: repository,
      tag: tagValue,
      tagField: tag,
      digest: digest.optString(),
      digestField: digest,
    }),
  ]);
}
